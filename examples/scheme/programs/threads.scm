;; Threads sharing one heap (issue #12): worker threads build and drop cyclic
;; structures (doubly linked rings of vectors) while reading a shared table, write
;; their results into one shared vector, and race on one shared counter.
;;
;; Usage: scheme threads.scm [THREADS [ROUNDS]]   (defaults: 4 threads, 4000 rounds)
;; ROUNDS is the total work, split over the threads, so the output does not depend on
;; THREADS (BENCHMARKS.md times 1 against 4).

(define (arg n default)
  (let loop ((args (command-line-arguments)) (i 0))
    (cond ((null? args) default)
          ((= i n) (car args))
          (else (loop (cdr args) (+ i 1))))))

(define threads (string->number (arg 0 "4")))
(define rounds (string->number (arg 1 "4000")))

;; The shared table: entry i is the list (i i*i).
(define table (make-vector 256 0))
(let loop ((i 0))
  (when (< i 256)
    (vector-set! table i (list i (* i i)))
    (loop (+ i 1))))

;; A ring of n nodes #(value next previous): every node is on two cycles.
(define (make-ring n seed)
  (let ((first (vector seed '() '())))
    (let loop ((i 1) (previous first))
      (if (= i n)
          (begin
            (vector-set! previous 1 first)
            (vector-set! first 2 previous)
            first)
          (let ((node (vector (+ seed i) '() previous)))
            (vector-set! previous 1 node)
            (loop (+ i 1) node))))))

;; Walks n steps round the ring, looking each value up in the table; every step also
;; writes a table entry back (the same value: a concurrent write, not a change).
(define (ring-sum ring n)
  (let loop ((node ring) (i 0) (acc 0))
    (if (= i n)
        acc
        (let* ((key (remainder (vector-ref node 0) 256))
               (entry (vector-ref table key)))
          (vector-set! table key entry)
          (loop (vector-ref node 1) (+ i 1) (+ acc (cadr entry)))))))

(define shared-counter 0)

(define (work from to)
  (let loop ((round from) (acc 0))
    (if (= round to)
        acc
        (let ((ring (make-ring 32 round)))
          (set! shared-counter (+ shared-counter 1))
          (loop (+ round 1) (+ acc (ring-sum ring 32)))))))

(define results (make-vector threads 0))

(define (start-worker k)
  (let ((from (quotient (* k rounds) threads))
        (to (quotient (* (+ k 1) rounds) threads)))
    (spawn (lambda ()
             (let ((sum (work from to)))
               (vector-set! results k sum)
               sum)))))

(define workers
  (let loop ((k 0) (acc '()))
    (if (= k threads)
        (reverse acc)
        (loop (+ k 1) (cons (start-worker k) acc)))))

(define total
  (let loop ((ws workers) (acc 0))
    (if (null? ws)
        acc
        (loop (cdr ws) (+ acc (join (car ws)))))))

(define (vector-sum v)
  (let loop ((k 0) (acc 0))
    (if (= k (vector-length v))
        acc
        (loop (+ k 1) (+ acc (vector-ref v k))))))

(display "rounds: ") (display rounds) (newline)
(display "total: ") (display total) (newline)
(display "the shared vector agrees: ") (display (= total (vector-sum results))) (newline)
;; Racing `set!`s may lose increments, never invent them.
(display "shared counter in range: ")
(display (and (> shared-counter 0) (<= shared-counter rounds)))
(newline)
