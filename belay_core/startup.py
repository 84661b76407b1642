"""Code Belay runs on the board at connect, besides the frames' (`belay_core.frames.EMITTER`).

`PROBE` learns the firmware in the same round trip as the start-up code; `CONVENIENCE` is the original
belay's convenience names. Kept small: the micro:bit's whole heap is 9 KiB.
"""

from __future__ import annotations

PROBE = """\
def __belay_i():
 i=__import__('sys').implementation;e=[]
 for n in('native','viper'):
  try:exec('@micropython.%s\\ndef f():pass'%n,{});e.append(n)
  except Exception:pass
 try:__import__('_thread');e.append('thread')
 except ImportError:pass
 return(i.name,tuple(i.version),__import__('sys').platform,getattr(i,'_mpy',0),e)
"""
"""``__belay_i()``: the firmware's name, version, platform, ``_mpy`` and features (emitters, threads)."""

CONVENIENCE = """\
def __belay_c(g):
 for n in('os','sys','time','machine','micropython'):
  for m in(n,'u'+n):
   try:g[n]=__import__(m);break
   except ImportError:pass
 for m,n in(('time','sleep'),('micropython','const'),('machine','Pin'),('machine','Timer'),('machine','PWM'),
  ('machine','I2C'),('machine','SPI'),('machine','ADC')):
  try:g[n]=getattr(g[m],n)
  except (KeyError,AttributeError):pass
__belay_c(globals())
del __belay_c
"""
"""The original belay's convenience names (its start-up code also imported ``sys``), each tolerant of a
missing module (the wasm board has no ``machine``; old firmware names modules ``utime``, ...)."""

TICKS = "__import__('time').ticks_ms()"
"""The board's millisecond clock."""
