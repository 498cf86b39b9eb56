;; Host-side tap kernels for the `bits` strategy (compiled by scripts/build-wasm.mjs).
;; pack: rows of 0/1 bytes (bool tensors from the runtime) -> rows of 64-bit words, bit k of
;;       word w = unit 64w + k. SIMD: 16 bytes a step (shift the 0/1 into the sign bit, bitmask).
;; gram: out[i][j] += mult * popcount(row_i AND row_j), symmetric, only j >= i computed.
(module
  (memory (export "memory") 1)

  (func (export "pack") (param $src i32) (param $n i32) (param $units i32) (param $dst i32) (param $words i32)
    (local $r i32) (local $u i32) (local $s i32) (local $d i32) (local $full i32) (local $mask i64)
    (local.set $full (i32.and (local.get $units) (i32.const -16)))
    (block $rows_done
      (loop $rows
        (br_if $rows_done (i32.ge_u (local.get $r) (local.get $n)))
        (local.set $s (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $units))))
        (local.set $d (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $r) (local.get $words)) (i32.const 3))))
        ;; zero the row's words first: the tail and padding bits stay 0
        (memory.fill (local.get $d) (i32.const 0) (i32.shl (local.get $words) (i32.const 3)))
        (local.set $u (i32.const 0))
        (block $simd_done
          (loop $simd
            (br_if $simd_done (i32.ge_u (local.get $u) (local.get $full)))
            ;; 16 units -> 16 bits, OR-ed into the 16-bit lane of its word
            (i32.store16
              (i32.add (local.get $d) (i32.shr_u (local.get $u) (i32.const 3)))
              (i8x16.bitmask (i8x16.shl (v128.load (i32.add (local.get $s) (local.get $u))) (i32.const 7))))
            (local.set $u (i32.add (local.get $u) (i32.const 16)))
            (br $simd)))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $u) (local.get $units)))
            (if (i32.load8_u (i32.add (local.get $s) (local.get $u)))
              (then
                (i32.store8
                  (i32.add (local.get $d) (i32.shr_u (local.get $u) (i32.const 3)))
                  (i32.or
                    (i32.load8_u (i32.add (local.get $d) (i32.shr_u (local.get $u) (i32.const 3))))
                    (i32.shl (i32.const 1) (i32.and (local.get $u) (i32.const 7)))))))
            (local.set $u (i32.add (local.get $u) (i32.const 1)))
            (br $tail)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rows))))

  (func (export "gram") (param $codes i32) (param $n i32) (param $words i32) (param $mult i32) (param $out i32)
    (local $i i32) (local $j i32) (local $w i32) (local $pi i32) (local $pj i32) (local $end i32)
    (local $s i64) (local $v i32) (local $stride i32) (local $o i32)
    (local.set $stride (i32.shl (local.get $words) (i32.const 3)))
    (block $i_done
      (loop $i_loop
        (br_if $i_done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $j (local.get $i))
        (block $j_done
          (loop $j_loop
            (br_if $j_done (i32.ge_u (local.get $j) (local.get $n)))
            (local.set $pi (i32.add (local.get $codes) (i32.mul (local.get $i) (local.get $stride))))
            (local.set $pj (i32.add (local.get $codes) (i32.mul (local.get $j) (local.get $stride))))
            (local.set $end (i32.add (local.get $pi) (local.get $stride)))
            (local.set $s (i64.const 0))
            (block $w_done
              (loop $w_loop
                (br_if $w_done (i32.ge_u (local.get $pi) (local.get $end)))
                (local.set $s (i64.add (local.get $s)
                  (i64.popcnt (i64.and (i64.load (local.get $pi)) (i64.load (local.get $pj))))))
                (local.set $pi (i32.add (local.get $pi) (i32.const 8)))
                (local.set $pj (i32.add (local.get $pj) (i32.const 8)))
                (br $w_loop)))
            (local.set $v (i32.mul (i32.wrap_i64 (local.get $s)) (local.get $mult)))
            (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $n)) (local.get $j)) (i32.const 2))))
            (i32.store (local.get $o) (i32.add (i32.load (local.get $o)) (local.get $v)))
            (if (i32.ne (local.get $i) (local.get $j))
              (then
                (local.set $o (i32.add (local.get $out) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $n)) (local.get $i)) (i32.const 2))))
                (i32.store (local.get $o) (i32.add (i32.load (local.get $o)) (local.get $v)))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $j_loop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $i_loop))))
)
