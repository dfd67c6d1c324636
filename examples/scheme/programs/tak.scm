;; tak: Takeuchi's function, the classic call-heavy Gabriel benchmark, with a global
;; call counter (a global assigned on every call).

(define calls 0)

(define (tak x y z)
  (set! calls (+ calls 1))
  (if (not (< y x))
      z
      (tak (tak (- x 1) y z)
           (tak (- y 1) z x)
           (tak (- z 1) x y))))

(display "tak 18 12 6: ") (display (tak 18 12 6)) (newline)
(display "calls: ") (display calls) (newline)
(set! calls 0)
(display "tak 12 8 4: ") (display (tak 12 8 4)) (newline)
(display "calls: ") (display calls) (newline)
