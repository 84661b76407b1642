// belay-emulator `wasm` board: MicroPython's WebAssembly port served on stdin/stdout like a board's serial line.
//
// Usage: node board.mjs PACKAGE_DIR [--fs DIR]
//   PACKAGE_DIR  folder holding node_modules/@micropython/micropython-webassembly-pyscript
//   --fs DIR     host folder loaded as the board's flash at start and written back when it changes
//
// Layout of this program:
//   - a worker thread reads stdin into a shared ring buffer (so input can be seen while Python runs);
//   - the main thread runs MicroPython's event-driven REPL one byte at a time (`replProcessChar`);
//   - the WebAssembly imports are wrapped: stdout/stderr/stdin go straight to our fds, file errors get
//     MicroPython's errno numbers, and every call into JS polls stdin for Ctrl-C;
//   - in front of the port this program adds what a board has and the port lacks: raw-paste mode,
//     soft reset (a fresh instance with the same filesystem), cooked output (see "Cooked output"), a
//     board-like flash;
//   - a firmware crash (the WebAssembly code throws: "memory access out of bounds", a JS stack overflow,
//     an abort) leaves a dead interpreter behind: the process says so on stderr and ends at once
//     (SIGKILL, see `crash`), so the host sees the line close instead of waiting for an answer.
//
// Limit: Ctrl-C is only noticed when running code calls into JS (time.sleep, print, file I/O, input):
// the interpreter runs on this thread and its memory is not shared, so a pure CPU loop such as
// `while True: pass` cannot be interrupted.

import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";

const PACKAGE = "@micropython/micropython-webassembly-pyscript";
const FLASH = "/flash"; // Emscripten folder mounted as the board's `/`
const RAW_BANNER = "raw REPL; CTRL-B to exit\r\n";
const PASTE_BANNER = "paste mode; Ctrl-C to cancel, Ctrl-D to finish";
const EOF_GRACE_MS = 200; // how long running code may go on after stdin closed
const PASTE_WINDOW = 128; // what boards use (MICROPY_REPL_STDIN_BUFFER_MAX / 2)

const CTRL_A = 0x01;
const CTRL_B = 0x02;
const CTRL_C = 0x03;
const CTRL_D = 0x04;
const CTRL_E = 0x05;

// Emscripten's errno numbers (its musl build) -> MicroPython's (Linux) numbers. EINTR is left as is:
// the C side compares it to retry system calls.
const EMSCRIPTEN_TO_LINUX_ERRNO = new Map([
  [63, 1], [44, 2], [71, 3], [29, 5], [60, 6], [1, 7], [45, 8], [8, 9], [12, 10], [6, 11], [48, 12],
  [2, 13], [21, 14], [105, 15], [10, 16], [20, 17], [75, 18], [43, 19], [54, 20], [31, 21], [28, 22],
  [41, 23], [33, 24], [59, 25], [74, 26], [22, 27], [51, 28], [70, 29], [69, 30], [34, 31], [64, 32],
  [18, 33], [68, 34], [16, 35], [37, 36], [46, 37], [52, 38], [55, 39], [32, 40], [49, 42], [24, 43],
  [116, 61], [61, 75], [25, 84], [57, 88], [17, 89], [35, 90], [67, 91], [50, 92], [66, 93], [137, 94],
  [138, 95], [5, 97], [3, 98], [4, 99], [38, 100], [40, 101], [39, 102], [13, 103], [15, 104], [42, 105],
  [30, 106], [53, 107], [73, 110], [14, 111], [23, 113], [7, 114], [26, 115], [72, 116], [19, 122],
  [11, 125], [47, 67], [65, 71], [36, 72], [9, 74], [56, 131], [62, 130],
]);
const EMSCRIPTEN_EINTR = 27;
const MUTATING_SYSCALLS = new Set([
  "__syscall_mkdirat", "__syscall_unlinkat", "__syscall_rmdir", "__syscall_renameat", "__syscall_ftruncate64",
]);

// Python run in every fresh instance (shared with the unix board): a board-like flash at `/`, and an
// `input()` that reads our stdin and echoes like a board's readline (the port's own spins forever).
const SETUP_PY = fs
  .readFileSync(new URL("../boards/board_setup.py", import.meta.url), "utf8")
  .replaceAll("FLASH_ROOT", JSON.stringify(FLASH));

// ---------------------------------------------------------------------------------------------------
// Arguments

const args = process.argv.slice(2);
if (args.length < 1) {
  process.stderr.write("usage: node board.mjs PACKAGE_DIR [--fs DIR]\n");
  process.exit(2);
}
const packageDir = args[0];
let hostFsDir = null;
for (let i = 1; i < args.length; i++) {
  if (args[i] === "--fs" && i + 1 < args.length) {
    hostFsDir = path.resolve(args[++i]);
  }
}

// ---------------------------------------------------------------------------------------------------
// stdin: a worker reads fd 0 into a shared ring buffer

const RING_SIZE = 1 << 16; // power of two
const RING_MASK = RING_SIZE - 1;
const W = 0; // bytes written in total (wraps at 2**32)
const R = 1; // bytes taken in total
const SEQ = 2; // bumped on every event (data or EOF), to wait on
const EOF = 3; // 1 once stdin is closed
const ctrlShared = new SharedArrayBuffer(16);
const ringShared = new SharedArrayBuffer(RING_SIZE);
const ctrl = new Int32Array(ctrlShared);
const ring = new Uint8Array(ringShared);

const WORKER_SOURCE = `
const fs = require("fs");
const { workerData } = require("worker_threads");
const ctrl = new Int32Array(workerData.ctrl);
const ring = new Uint8Array(workerData.ring);
const size = ring.length, mask = size - 1;
const chunk = Buffer.alloc(4096);
for (;;) {
  let n = 0;
  try {
    n = fs.readSync(0, chunk, 0, chunk.length, null);
  } catch (e) {
    if (e.code === "EAGAIN") { Atomics.wait(ctrl, 0, Atomics.load(ctrl, 0), 5); continue; }
    if (e.code === "EINTR") continue;
    n = 0;
  }
  if (n <= 0) break;
  let off = 0;
  while (off < n) {
    const w = Atomics.load(ctrl, 0);
    const r = Atomics.load(ctrl, 1);
    const free = size - ((w - r) | 0);
    if (free === 0) { Atomics.wait(ctrl, 1, r, 50); continue; }
    const take = Math.min(free, n - off);
    for (let i = 0; i < take; i++) ring[(w + i) & mask] = chunk[off + i];
    off += take;
    Atomics.store(ctrl, 0, (w + take) | 0);
    Atomics.add(ctrl, 2, 1);
    Atomics.notify(ctrl, 2);
  }
}
Atomics.store(ctrl, 3, 1);
Atomics.add(ctrl, 2, 1);
Atomics.notify(ctrl, 2);
`;

const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ctrl: ctrlShared, ring: ringShared } });

// Bytes taken from the ring but not yet consumed by the board, in arrival order.
class ByteQueue {
  constructor() {
    this.buf = new Uint8Array(4096);
    this.head = 0;
    this.tail = 0;
    this.scanned = 0; // bytes before this index were already checked for the interrupt char
  }

  get length() {
    return this.tail - this.head;
  }

  push(b) {
    if (this.tail === this.buf.length) {
      const live = this.tail - this.head;
      const bigger = new Uint8Array(Math.max(4096, live * 2));
      bigger.set(this.buf.subarray(this.head, this.tail));
      this.buf = bigger;
      this.scanned = Math.max(0, this.scanned - this.head);
      this.head = 0;
      this.tail = live;
    }
    this.buf[this.tail++] = b;
  }

  shift() {
    const b = this.buf[this.head++];
    if (this.head === this.tail) {
      this.head = this.tail = this.scanned = 0;
    }
    return b;
  }

  // Remove the first unscanned occurrence of `b`; true when one was found.
  takeUnscanned(b) {
    const from = Math.max(this.scanned, this.head);
    const at = this.buf.subarray(from, this.tail).indexOf(b);
    this.scanned = this.tail;
    if (at < 0) {
      return false;
    }
    const index = from + at;
    this.buf.copyWithin(index, index + 1, this.tail);
    this.tail--;
    this.scanned = this.tail;
    return true;
  }
}

const queue = new ByteQueue();
let seenSeq = 0;
let running = false;
let eofSeenAt = null; // when running code first saw stdin closed // true while Python code may run (inside replProcessChar / runPython)

// Move new bytes from the ring into the queue.
function drainRing() {
  seenSeq = Atomics.load(ctrl, SEQ);
  const w = Atomics.load(ctrl, W);
  let r = Atomics.load(ctrl, R);
  if (w === r) {
    return;
  }
  while (r !== w) {
    queue.push(ring[r & RING_MASK]);
    r = (r + 1) | 0;
  }
  Atomics.store(ctrl, R, r);
  Atomics.notify(ctrl, R);
}

function stdinClosed() {
  return Atomics.load(ctrl, EOF) === 1 && Atomics.load(ctrl, W) === Atomics.load(ctrl, R);
}

// ---------------------------------------------------------------------------------------------------
// stdout: written at once with a blocking write

let outFilter = null; // optional function(bytes) -> bytes|null, used around resets and raw-paste

function writeFd1(bytes) {
  let off = 0;
  while (off < bytes.length) {
    try {
      off += fs.writeSync(1, bytes, off, bytes.length - off);
    } catch (e) {
      if (e.code === "EAGAIN") {
        Atomics.wait(ctrl, SEQ, Atomics.load(ctrl, SEQ), 1);
        continue;
      }
      if (e.code === "EPIPE") {
        shutdown(0);
      }
      throw e;
    }
  }
}

function emit(bytes) {
  if (outFilter !== null) {
    bytes = outFilter(bytes);
    if (bytes === null || bytes.length === 0) {
      return;
    }
  }
  writeFd1(bytes);
}

function emitText(text) {
  emit(Buffer.from(text, "latin1"));
}

// Drop `prefix` from the start of the coming output if it is there (e.g. the raw REPL's "OK").
function stripNext(prefix) {
  const want = Buffer.from(prefix, "latin1");
  let matched = 0;
  outFilter = (bytes) => {
    let i = 0;
    while (i < bytes.length && matched < want.length && bytes[i] === want[matched]) {
      i++;
      matched++;
    }
    if (matched === want.length) {
      outFilter = null;
      return bytes.subarray(i);
    }
    if (i === bytes.length) {
      return null; // still matching
    }
    outFilter = null; // mismatch: give back what was held
    const held = new Uint8Array(matched + bytes.length - i);
    held.set(want.subarray(0, matched));
    held.set(bytes.subarray(i), matched);
    return held;
  };
}

// ---------------------------------------------------------------------------------------------------
// The MicroPython instance and its WebAssembly imports

const { loadMicroPython } = await import(
  pathToFileURL(path.join(packageDir, "node_modules", PACKAGE, "micropython.mjs")).href
);

let mp = null; // the current instance (loadMicroPython result)
let wasmExports = null;
let fsDirty = false;

function memoryU8() {
  return new Uint8Array(wasmExports.memory.buffer);
}

function memoryView() {
  return new DataView(wasmExports.memory.buffer);
}

function shutdown(code) {
  try {
    if (mp !== null && hostFsDir !== null) {
      syncToHost(mp.FS);
    }
  } finally {
    process.exit(code);
  }
}

// Called on every call from Python into JS: see new stdin, raise KeyboardInterrupt on Ctrl-C.
function poll() {
  if (Atomics.load(ctrl, SEQ) !== seenSeq) {
    drainRing();
  }
  if (!running) {
    return;
  }
  if (queue.length > 0 && queue.scanned < queue.tail) {
    const ic = wasmExports.mp_hal_get_interrupt_char();
    if (ic >= 0 && queue.takeUnscanned(ic)) {
      wasmExports.mp_sched_keyboard_interrupt();
    }
  }
  if (stdinClosed() && queue.length === 0) {
    // The host hung up while code runs: let it finish what it was sent for a moment, then leave.
    const now = performance.now();
    if (eofSeenAt === null) {
      eofSeenAt = now;
    } else if (now - eofSeenAt > EOF_GRACE_MS) {
      shutdown(0);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Cooked output
//
// A board prints program output through mp_hal_stdout_tx_strn_cooked, which sends every `\n` as `\r\n`
// (print("a\r\nb") arrives as "a\r\r\nb\r\n"), and its protocol text (banners, OK, \x04, prompts, echo)
// as it is. This port writes print() and sys.stdout raw but tracebacks already cooked: its cooked printer
// writes each line end as a write of its own of the C string "\r\n", the very string its protocol text
// ends lines with. So program output is cooked, except such a line end, known by the address of that
// string (learnt from the banner at the first start; any `\r\n` write if none was seen); a program's own
// "\r\n" lives in the heap and is cooked. Program output is what the port writes while code runs
// (`cooking`: a raw-REPL command, an Enter or the end of paste mode in the friendly REPL) or while no
// REPL call is under way (an asyncio task run by the event loop); the rest of the REPL's writes are
// protocol text and go out as they are. Unlike a board, sys.stdout.buffer.write is cooked too.

let cooking = false;
let inRepl = false; // a call into the port's REPL is under way
let learning = false;
const lineEndAddresses = new Set();

function emitWritten(bytes, ptr) {
  const lineEnd = bytes.length === 2 && bytes[0] === 13 && bytes[1] === 10;
  if (learning && lineEnd) {
    lineEndAddresses.add(ptr);
  }
  const program = cooking || !inRepl;
  if (!program || !bytes.includes(10) || (lineEnd && (lineEndAddresses.size === 0 || lineEndAddresses.has(ptr)))) {
    emit(bytes);
    return;
  }
  let count = 0;
  for (const b of bytes) {
    count += b === 10 ? 1 : 0;
  }
  const out = new Uint8Array(bytes.length + count);
  let j = 0;
  for (const b of bytes) {
    if (b === 10) {
      out[j++] = 13;
    }
    out[j++] = b;
  }
  emit(out);
}

// Run `action` with program output cooked.
function cooked(action) {
  const previous = cooking;
  cooking = true;
  try {
    return action();
  } finally {
    cooking = previous;
  }
}

// fd_write for fds 1 and 2: both go to the serial line, as on a board.
function fdWrite(fd, iovs, iovcnt, pnum) {
  const view = memoryView();
  const u8 = memoryU8();
  let total = 0;
  for (let i = 0; i < iovcnt; i++) {
    const ptr = view.getUint32(iovs + i * 8, true);
    const len = view.getUint32(iovs + i * 8 + 4, true);
    if (len > 0) {
      emitWritten(u8.subarray(ptr, ptr + len), ptr);
    }
    total += len;
  }
  view.setUint32(pnum, total, true);
  poll();
  return 0;
}

// fd_read for fd 0: block until input arrives; Ctrl-C (when enabled) interrupts the read.
function fdRead(fd, iovs, iovcnt, pnum) {
  let view = memoryView();
  if (iovcnt === 0) {
    view.setUint32(pnum, 0, true);
    return 0;
  }
  for (;;) {
    const seq = Atomics.load(ctrl, SEQ);
    drainRing();
    if (queue.length > 0) {
      break;
    }
    if (stdinClosed()) {
      shutdown(0);
    }
    Atomics.wait(ctrl, SEQ, seq);
  }
  const ic = wasmExports.mp_hal_get_interrupt_char();
  view = memoryView();
  const u8 = memoryU8();
  let total = 0;
  for (let i = 0; i < iovcnt && queue.length > 0; i++) {
    const ptr = view.getUint32(iovs + i * 8, true);
    const len = view.getUint32(iovs + i * 8 + 4, true);
    let n = 0;
    while (n < len && queue.length > 0) {
      if (ic >= 0 && queue.buf[queue.head] === ic) {
        if (total + n > 0) {
          view.setUint32(pnum, total + n, true); // hand over what came before; Ctrl-C on the next read
          return 0;
        }
        queue.shift();
        wasmExports.mp_sched_keyboard_interrupt();
        return EMSCRIPTEN_EINTR; // the C side handles pending events before retrying: KeyboardInterrupt
      }
      u8[ptr + n++] = queue.shift();
    }
    total += n;
  }
  view.setUint32(pnum, total, true);
  return 0;
}

function wrapImports(imports) {
  const done = new Map();
  for (const ns of Object.keys(imports)) {
    const table = imports[ns];
    for (const name of Object.keys(table)) {
      const original = table[name];
      if (typeof original !== "function") {
        continue;
      }
      if (done.has(original)) {
        table[name] = done.get(original);
        continue;
      }
      let wrapped = original;
      if (name === "fd_write") {
        wrapped = (fd, iovs, iovcnt, pnum) => {
          if (fd === 1 || fd === 2) {
            return fdWrite(fd, iovs, iovcnt, pnum);
          }
          fsDirty = true;
          return translateWasi(original(fd, iovs, iovcnt, pnum));
        };
      } else if (name === "fd_read") {
        wrapped = (fd, iovs, iovcnt, pnum) => {
          if (fd === 0) {
            return fdRead(fd, iovs, iovcnt, pnum);
          }
          poll();
          return translateWasi(original(fd, iovs, iovcnt, pnum));
        };
      } else if (name.startsWith("fd_")) {
        wrapped = (...a) => {
          poll();
          return translateWasi(original(...a));
        };
      } else if (name === "__syscall_openat") {
        wrapped = (dirfd, pathPtr, flags, varargs) => {
          poll();
          if ((flags & 3) !== 0 || (flags & 0x240) !== 0) {
            fsDirty = true; // opened for writing, creating or truncating
          }
          return translateSyscall(original(dirfd, pathPtr, flags, varargs));
        };
      } else if (name.startsWith("__syscall_")) {
        const mutating = MUTATING_SYSCALLS.has(name);
        wrapped = (...a) => {
          poll();
          if (mutating) {
            fsDirty = true;
          }
          return translateSyscall(original(...a));
        };
      } else if (name === "mp_js_ticks_ms" || name === "mp_js_time_ms") {
        wrapped = (...a) => {
          poll();
          return original(...a);
        };
      }
      done.set(original, wrapped);
      done.set(wrapped, wrapped); // the namespaces may share one table: never wrap twice
      table[name] = wrapped;
    }
  }
}

function translateSyscall(result) {
  if (typeof result === "number" && result < 0 && result > -4096) {
    const linux = EMSCRIPTEN_TO_LINUX_ERRNO.get(-result);
    return linux === undefined ? result : -linux;
  }
  return result;
}

function translateWasi(result) {
  if (typeof result === "number" && result > 0) {
    const linux = EMSCRIPTEN_TO_LINUX_ERRNO.get(result);
    return linux === undefined ? result : linux;
  }
  return result;
}

const originalInstantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async (source, imports) => {
  if (imports !== undefined) {
    wrapImports(imports);
  }
  const result = await originalInstantiate(source, imports);
  wasmExports = (result.instance ?? result).exports;
  return result;
};

// A fresh instance with the given flash contents; the REPL is not started.
async function newInstance(files) {
  const instance = await loadMicroPython({ linebuffer: false });
  instance.FS.mkdir(FLASH);
  restoreTree(instance.FS, files);
  instance.runPython(SETUP_PY);
  return instance;
}

// ---------------------------------------------------------------------------------------------------
// Flash contents: copied across soft resets, loaded from / written back to --fs DIR

// A snapshot: array of [relativePath, null (folder) | Uint8Array (file)], parents before children.
function snapshotTree(FS) {
  const entries = [];
  const walk = (dir, rel) => {
    for (const name of FS.readdir(dir)) {
      if (name === "." || name === "..") {
        continue;
      }
      const full = `${dir}/${name}`;
      const relPath = rel ? `${rel}/${name}` : name;
      const mode = FS.stat(full).mode;
      if (FS.isDir(mode)) {
        entries.push([relPath, null]);
        walk(full, relPath);
      } else if (FS.isFile(mode)) {
        entries.push([relPath, FS.readFile(full)]);
      }
    }
  };
  walk(FLASH, "");
  return entries;
}

function restoreTree(FS, entries) {
  for (const [rel, data] of entries) {
    const full = `${FLASH}/${rel}`;
    if (data === null) {
      FS.mkdir(full);
    } else {
      FS.writeFile(full, data);
    }
  }
}

function readHostTree(root) {
  const entries = [];
  const walk = (dir, rel) => {
    for (const dirent of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, dirent.name);
      const relPath = rel ? `${rel}/${dirent.name}` : dirent.name;
      if (dirent.isDirectory()) {
        entries.push([relPath, null]);
        walk(full, relPath);
      } else if (dirent.isFile()) {
        entries.push([relPath, new Uint8Array(fs.readFileSync(full))]);
      }
    }
  };
  walk(root, "");
  return entries;
}

let hostSnapshot = new Map(); // relative path -> null | Uint8Array, as last written to / read from the host

function sameBytes(a, b) {
  if (a === null || b === null) {
    return a === b;
  }
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function syncToHost(FS) {
  fsDirty = false;
  const now = new Map(snapshotTree(FS));
  for (const [rel, data] of now) {
    const old = hostSnapshot.has(rel) ? hostSnapshot.get(rel) : undefined;
    if (old !== undefined && sameBytes(old, data)) {
      continue;
    }
    const full = path.join(hostFsDir, ...rel.split("/"));
    if (old !== undefined && (old === null) !== (data === null)) {
      fs.rmSync(full, { recursive: true, force: true });
    }
    if (data === null) {
      fs.mkdirSync(full, { recursive: true });
    } else {
      fs.writeFileSync(full, data);
    }
  }
  const gone = [...hostSnapshot.keys()].filter((rel) => !now.has(rel)).sort().reverse();
  for (const rel of gone) {
    fs.rmSync(path.join(hostFsDir, ...rel.split("/")), { recursive: true, force: true });
  }
  hostSnapshot = now;
}

// ---------------------------------------------------------------------------------------------------
// The board: REPL modes, raw-paste and soft reset in front of the port's REPL

let rawMode = false;
let rawLine = []; // first bytes of the raw REPL's current line (up to 3), to spot `\x05A\x01`
let rawLineLength = 0;
let paste = null; // raw-paste state while receiving: { data: number[], sinceAck: number }
let friendlyPaste = false; // the friendly REPL's paste mode (Ctrl-E) is on
let resetPending = false;

function feedPort(b) {
  running = true;
  inRepl = true;
  try {
    return mp.replProcessChar(b);
  } finally {
    running = false;
    inRepl = false;
  }
}

function noteRawByte(b) {
  if (b === CTRL_A || b === CTRL_C || b === CTRL_D) {
    rawLine = [];
    rawLineLength = 0;
  } else {
    if (rawLine.length < 3) {
      rawLine.push(b);
    }
    rawLineLength++;
  }
}

// Feed one byte from the host; returns after the board has fully reacted (including running code).
function feed(b) {
  if (paste !== null) {
    feedPaste(b);
    return;
  }
  if (rawMode) {
    if (b === CTRL_A && rawLineLength === 2 && rawLine[0] === CTRL_E) {
      startPaste(rawLine[1]);
      return;
    }
    if (b === CTRL_B) {
      rawMode = false;
      rawLine = [];
      rawLineLength = 0;
      feedPort(b);
      return;
    }
    const runs = b === CTRL_D && rawLineLength > 0;
    noteRawByte(b);
    if ((runs ? cooked(() => feedPort(b)) : feedPort(b)) !== 0) {
      resetPending = true;
    }
    return;
  }
  if (b === CTRL_A || (b === CTRL_E && !friendlyPaste)) {
    // The friendly REPL only switches mode when the line is empty: see whether the port said so.
    let said = "";
    const previous = outFilter;
    outFilter = (bytes) => {
      said += Buffer.from(bytes).toString("latin1");
      return previous === null ? bytes : previous(bytes);
    };
    try {
      feedPort(b);
    } finally {
      outFilter = previous;
    }
    if (b === CTRL_A && said.includes(RAW_BANNER)) {
      rawMode = true;
      rawLine = [];
      rawLineLength = 0;
    }
    friendlyPaste = friendlyPaste || (b === CTRL_E && said.includes(PASTE_BANNER));
    return;
  }
  // Code runs after Enter at the prompt, or at the end of paste mode.
  const runs = friendlyPaste ? b === CTRL_D : b === 0x0d;
  if (friendlyPaste && (b === CTRL_C || b === CTRL_D)) {
    friendlyPaste = false;
  }
  if ((runs ? cooked(() => feedPort(b)) : feedPort(b)) !== 0) {
    resetPending = true;
  }
}

function startPaste(command) {
  // The port already holds `\x05` + command in its line: clear it (Ctrl-C in raw mode prints nothing).
  feedPort(CTRL_C);
  rawLine = [];
  rawLineLength = 0;
  if (command !== 0x41) {
    emitText("R\x00"); // unsupported raw-paste command, as a board answers; the raw REPL goes on
    return;
  }
  emit(Uint8Array.of(0x52, 0x01, PASTE_WINDOW & 0xff, PASTE_WINDOW >> 8, 0x01));
  paste = { data: [], sinceAck: 0 };
}

function feedPaste(b) {
  if (b === CTRL_D) {
    const code = paste.data;
    paste = null;
    emitText("\x04");
    runPasted(code);
    return;
  }
  if (b === CTRL_C) {
    // As a board: end of data, then the KeyboardInterrupt raised while reading the source.
    paste = null;
    emitText("\x04\x04KeyboardInterrupt: \r\n\x04>");
    return;
  }
  paste.data.push(b);
  if (++paste.sinceAck === PASTE_WINDOW) {
    paste.sinceAck = 0;
    emitText("\x01");
  }
}

function runPasted(code) {
  let source = code;
  if (code.includes(CTRL_A) || code.includes(CTRL_B)) {
    // These would act on the raw REPL's line; run the exact bytes through exec() instead.
    const hex = Buffer.from(code).toString("hex");
    source = Array.from(Buffer.from(`exec(bytes.fromhex('${hex}'))`, "latin1"));
  }
  for (const c of source) {
    feedPort(c);
  }
  stripNext("OK"); // raw-paste answers without the classic raw REPL's "OK"
  const result = cooked(() => feedPort(CTRL_D));
  outFilter = null;
  if (result !== 0) {
    resetPending = true;
  }
}

async function softReset() {
  resetPending = false;
  emitText("MPY: soft reboot\r\n");
  const files = snapshotTree(mp.FS);
  if (hostFsDir !== null) {
    syncToHost(mp.FS);
  }
  await boot(files);
}

async function boot(files) {
  mp = await newInstance(files);
  if (rawMode) {
    outFilter = () => null;
    try {
      mp.replInit();
      feedPort(CTRL_A);
    } finally {
      outFilter = null;
    }
    emitText(`${RAW_BANNER}>`);
  } else {
    stripNext("\r\n"); // a board's banner at power-on has no blank line before it
    learning = lineEndAddresses.size === 0;
    inRepl = true;
    try {
      mp.replInit();
    } finally {
      learning = false;
      inRepl = false;
    }
    outFilter = null;
  }
  friendlyPaste = false;
  rawLine = [];
  rawLineLength = 0;
}

// ---------------------------------------------------------------------------------------------------
// Main loop

async function main() {
  let files = [];
  if (hostFsDir !== null) {
    fs.mkdirSync(hostFsDir, { recursive: true });
    files = readHostTree(hostFsDir);
    hostSnapshot = new Map(files);
  }
  await boot(files);
  for (;;) {
    const seq = Atomics.load(ctrl, SEQ);
    drainRing();
    while (queue.length > 0) {
      feed(queue.shift());
      if (resetPending) {
        await softReset();
      }
    }
    if (stdinClosed()) {
      shutdown(0);
    }
    if (hostFsDir !== null && fsDirty) {
      syncToHost(mp.FS);
    }
    const waited = Atomics.waitAsync(ctrl, SEQ, seq);
    if (waited.async) {
      await waited.value;
    }
  }
}

// A firmware crash: what the WebAssembly code throws (a RuntimeError such as "memory access out of
// bounds", a RangeError when the JS stack overflows, an Emscripten abort) leaves the interpreter dead.
// Say so on stderr, write the flash back (it is JS data and intact, as a board's flash survives a crash)
// and end at once. process.exit() would wait for the stdin worker, blocked in read(2) until the host
// writes or closes the line; SIGKILL ends the process now, and the host's transport sees end of file.
function crash(error) {
  const what = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  try {
    fs.writeSync(2, `belay-emulator wasm: the firmware crashed (${what}); the board process ends\n`);
  } catch {
    // stderr gone: end anyway
  }
  try {
    if (mp !== null && hostFsDir !== null) {
      syncToHost(mp.FS);
    }
  } catch {
    // the flash could not be written back: end anyway
  } finally {
    process.kill(process.pid, "SIGKILL");
  }
}

process.on("uncaughtException", crash);
process.on("unhandledRejection", crash);

// No SIGTERM handler: the default action ends the process at once even while Python runs on this
// thread (a JS handler would wait for the code to finish). The flash is written back at every idle point.
await main().catch(crash);
