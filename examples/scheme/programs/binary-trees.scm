;; binary-trees (the Benchmarks Game), with trees made of pairs.
;;
;; Usage: scheme binary-trees.scm [DEPTH [stats]]
;;   DEPTH defaults to 14. With `stats`, the program also prints the collector's cycle
;;   count and the p99 and longest of its last 256 stalls (BENCHMARKS.md).

(define (arg n default)
  (let loop ((args (command-line-arguments)) (i 0))
    (cond ((null? args) default)
          ((= i n) (car args))
          (else (loop (cdr args) (+ i 1))))))

(define (make-tree depth)
  (if (= depth 0)
      (cons '() '())
      (cons (make-tree (- depth 1)) (make-tree (- depth 1)))))

(define (check tree)
  (if (null? (car tree))
      1
      (+ 1 (check (car tree)) (check (cdr tree)))))

(define (pow2 k)
  (if (= k 0) 1 (* 2 (pow2 (- k 1)))))

(define min-depth 4)
(define requested (string->number (arg 0 "14")))
(define max-depth (if (< requested (+ min-depth 2)) (+ min-depth 2) requested))

(define (sum-checks iterations depth)
  (let loop ((i 0) (sum 0))
    (if (= i iterations)
        sum
        (loop (+ i 1) (+ sum (check (make-tree depth)))))))

(define stretch-depth (+ max-depth 1))
(display "stretch tree of depth ") (display stretch-depth)
(display "\t check: ") (display (check (make-tree stretch-depth))) (newline)

(define long-lived (make-tree max-depth))

(let loop ((depth min-depth))
  (when (<= depth max-depth)
    (let ((iterations (pow2 (+ (- max-depth depth) min-depth))))
      (display iterations) (display "\t trees of depth ") (display depth)
      (display "\t check: ") (display (sum-checks iterations depth)) (newline))
    (loop (+ depth 2))))

(display "long lived tree of depth ") (display max-depth)
(display "\t check: ") (display (check long-lived)) (newline)

(define (stat name) (cdr (assq name (gc-stats))))
(when (equal? (arg 1 "") "stats")
  (display "cycles: ") (display (stat 'cycles)) (newline)
  (display "pause-p99-us: ") (display (/ (stat 'pause-p99-ns) 1000.0)) (newline)
  (display "pause-max-us: ") (display (/ (stat 'pause-max-ns) 1000.0)) (newline)
  (display "pause-count: ") (display (stat 'pause-count)) (newline))
