;; fib: the doubly recursive Fibonacci function, on integers and on floats.
;; Neither recursive call is a tail call, so this exercises the continuation stack.

(define (fib n)
  (if (< n 2)
      n
      (+ (fib (- n 1)) (fib (- n 2)))))

(define (fib-float x)
  (if (< x 2.0)
      x
      (+ (fib-float (- x 1.0)) (fib-float (- x 2.0)))))

(let loop ((i 0))
  (when (<= i 15)
    (display (fib i))
    (display " ")
    (loop (+ i 1))))
(newline)
(display "fib 25: ") (display (fib 25)) (newline)
(display "fib-float 20.0: ") (display (fib-float 20.0)) (newline)
