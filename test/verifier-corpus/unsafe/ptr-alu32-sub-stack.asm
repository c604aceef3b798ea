; A 32-bit subtract (immediate) on a stack pointer, then a store through it. With the immediate
; form of sub32 the kernel turns the pointer into a number (add32 is refused outright, see
; ptr-alu32-add), so the store is the error.
; category: ptr_arith
; expect: R2 invalid mem access 'scalar'
; kernel-errno: EACCES
; kernel: R2 invalid mem access 'scalar'
mov %r2, %r10
sub32 %r2, 8
stb [%r2+0], 0
mov %r0, 2
exit
