;; Cyclic environments, 10 million times (issue #12).
;;
;; Every iteration makes a procedure that refers to itself through its environment:
;; `letrec` puts the closure `count-down` in a frame that the closure itself captures,
;; a cycle of two heap objects (frame -> closure -> frame) that reference counting alone
;; can never free. Only the tracing collector reclaims them, so if it did not, the heap
;; would grow by every iteration's cycle.
;;
;; Usage: scheme cyclic-env.scm [ITERATIONS [report]]
;;   ITERATIONS defaults to 10000000. With `report`, the program also samples the heap
;;   every 10000 iterations and prints the largest `heap-bytes` it saw, and the heap
;;   after a final collection (the tests check those bounds; the figures vary from run
;;   to run, so they are not part of the expected output).

(define (arg n default)
  (let loop ((args (command-line-arguments)) (i 0))
    (cond ((null? args) default)
          ((= i n) (car args))
          (else (loop (cdr args) (+ i 1))))))

(define iterations (string->number (arg 0 "10000000")))
(define report? (equal? (arg 1 "") "report"))

(define (heap-bytes) (cdr (assq 'heap-bytes (gc-stats))))

;; One iteration: a procedure that refers to itself through the frame it closes over,
;; called twice (once by the loop, once by itself).
(define (cycle k)
  (letrec ((self (lambda (n)
                   (if (= n 0) k (self 0)))))
    (self 1)))

;; Blocks of 10,000 iterations; with `report`, the heap is sampled after each block.
(define block 10000)
(define peak 0)

(define (run-block i end checksum)
  (if (= i end)
      checksum
      (run-block (+ i 1) end (+ checksum (cycle (remainder i 7))))))

(define (run i checksum)
  (if (= i iterations)
      checksum
      (let* ((end (if (< (+ i block) iterations) (+ i block) iterations))
             (sum (run-block i end checksum)))
        (when report?
          (let ((now (heap-bytes)))
            (if (> now peak) (set! peak now))))
        (run end sum))))

(define checksum (run 0 0))
(display "iterations: ") (display iterations) (newline)
(display "checksum: ") (display checksum) (newline)
(when report?
  (display "peak-heap-bytes: ") (display peak) (newline)
  (collect)
  (display "heap-bytes-after-collect: ") (display (heap-bytes)) (newline))
