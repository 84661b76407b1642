"""Code Belay defines on the board. Kept small: the micro:bit's whole heap is 9 KiB.

Every call's result travels in a frame the board prints last, after all user output::

    \\x02 TOKEN KIND LENGTH [@ TICKS] : PAYLOAD \\n

``TOKEN`` is four random letters chosen for each connection, so nothing a program prints (a
``\\x02``, or text shaped like a frame) is ever taken for one: output is passed on as printed.
The helpers keep the builtins they use under their own names (``__belay_bp`` is ``print``, ...), so a
program that rebinds ``print``, ``repr``, ``len`` or ``type`` at its top level does not break them, and
they leave no other names in the board's globals. Each stays small: MicroPython runs a function whose
arguments, locals and stack fit in 11 words without allocating (a helper with many default arguments
took four times as long). ``KIND`` is ``R`` (the repr of a plain value), ``O`` (``type:repr`` of any other value), ``P``
(``id:type`` of an object kept on the board for a proxy), ``S`` (a generator stopped) or ``X`` (the
repr of a ``SystemExit`` code, printed just before the exit goes on to the firmware). ``TICKS`` is the
board's millisecond clock when the value was ready, on results that carry the time. The host checks
``LENGTH`` against the payload. The frame and its newline go out in one write, so a board thread
printing meanwhile never lands inside it. Plain values are numbers, strings, bytes, booleans, ``None``
and containers of those; when proxies are asked for, containers stay on the board too, so changing
them through a proxy changes the board's.
"""

from __future__ import annotations

HELPERS = """\
__belay_m='\\x02{token}'
__belay_o={{}}
__belay_g={{}}
__belay_S=(int,float,str,bool,type(None),bytes)
__belay_L=__belay_S+(list,tuple,dict,set)
__belay_bp,__belay_bl,__belay_br,__belay_bt,__belay_be,__belay_bg=print,len,repr,type,exec,globals
__belay_bc=getattr(__import__('builtins'),'compile',None)
def __belay_n(t):
 try:return t.__name__
 except AttributeError:return __belay_br(t).split("'")[1]
def __belay_tk(c):
 return'@%d'%__import__('time').ticks_ms()if c else''
def __belay_f(k,s,c=''):
 __belay_bp('%s%s%d%s:%s\\n'%(__belay_m,k,__belay_bl(s),c,s),end='')
def __belay_r(v,p=0,c=0):
 t=__belay_bt(v)
 if t in(__belay_S if p else __belay_L):__belay_f('R',__belay_br(v),__belay_tk(c))
 elif p:__belay_o[id(v)]=v;__belay_f('P','%d:%s'%(id(v),__belay_n(t)),__belay_tk(c))
 else:__belay_f('O',__belay_n(t)+':'+__belay_br(v),__belay_tk(c))
def __belay_gn(k,x,p=0,c=0):
 try:v=__belay_g[k].send(x)
 except StopIteration:
  del __belay_g[k];__belay_f('S','');return
 __belay_r(v,p,c)
def __belay_x(s):
 try:__belay_be(__belay_bc(s,'<stdin>','exec')if __belay_bc else s,__belay_bg())
 except SystemExit as e:__belay_f('X',__belay_br(e.args[0]if e.args else None));raise
def __belay_i():
 i=__import__('sys').implementation;e=[]
 for n in('native','viper'):
  try:exec('@micropython.%s\\ndef f():pass'%n,{{}});e.append(n)
  except Exception:pass
 try:__import__('_thread');e.append('thread')
 except ImportError:pass
 return(i.name,tuple(i.version),__import__('sys').platform,getattr(i,'_mpy',0),e)
"""
"""The helpers, a template: ``HELPERS.format(token=...)`` with the connection's frame token."""

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
