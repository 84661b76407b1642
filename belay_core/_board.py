"""Code Belay defines on the board. Kept small: the micro:bit's whole heap is 9 KiB.

Every call's result travels in a frame the board prints last, after all user output::

    \\x02 TOKEN KIND LENGTH [@ TICKS] : PAYLOAD \\n

``TOKEN`` is four random letters chosen for each connection, so nothing a program prints (a
``\\x02``, or text shaped like a frame) is ever taken for one: output is passed on as printed.
The helpers take the builtins they use as default arguments, so a program that rebinds ``print``,
``str``, ``repr`` or ``len`` at its top level does not break them, and they leave no other names in
the board's globals. ``KIND`` is ``R`` (the repr of a plain value), ``O`` (``type:repr`` of any other value), ``P``
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
def __belay_n(t,R=repr,A=AttributeError):
 try:return t.__name__
 except A:return R(t).split("'")[1]
def __belay_f(k,s,c='',P=print,N=len,T=str,M=__belay_m):
 P(M+k+T(N(s))+c+':'+s+'\\n',end='')
def __belay_r(v,p=0,c=0,f=__belay_f,n=__belay_n,T=type,R=repr,I=id,S=__belay_S,L=__belay_L,o=__belay_o,J=__import__):
 c='@%d'%J('time').ticks_ms()if c else''
 t=T(v)
 if t in(S if p else L):f('R',R(v),c)
 elif p:o[I(v)]=v;f('P','%d:%s'%(I(v),n(t)),c)
 else:f('O',n(t)+':'+R(v),c)
def __belay_gn(k,x,p=0,c=0,g=__belay_g,f=__belay_f,r=__belay_r,E=StopIteration):
 try:v=g[k].send(x)
 except E:
  del g[k];f('S','');return
 r(v,p,c)
def __belay_x(s,f=__belay_f,R=repr,E=exec,C=getattr(__import__('builtins'),'compile',None),G=globals,X=SystemExit):
 try:E(C(s,'<stdin>','exec')if C else s,G())
 except X as e:f('X',R(e.args[0]if e.args else None));raise
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
