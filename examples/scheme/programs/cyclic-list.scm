;; A cyclic list built with set-cdr!: printed with datum labels, walked, compared,
;; and reclaimed by the collector (a cycle is never freed by handle counts alone).

(define (make-ring n)
  (let ((head (list 0)))
    (let loop ((i 1) (tail head))
      (if (= i n)
          (begin (set-cdr! tail head) head)
          (let ((cell (list i)))
            (set-cdr! tail cell)
            (loop (+ i 1) cell))))))

(define ring (make-ring 5))
(write ring) (newline)
(display (list? ring)) (newline)

;; Walking twelve steps goes round more than twice.
(define (walk l steps acc)
  (if (= steps 0)
      acc
      (walk (cdr l) (- steps 1) (+ acc (car l)))))
(display (walk ring 12 0)) (newline)

;; equal? terminates on cyclic structure.
(define other (make-ring 5))
(display (equal? ring other)) (newline)
(set-car! other 9)
(display (equal? ring other)) (newline)

;; A list that contains itself.
(define self (list 'me 'too))
(set-car! self self)
(write self) (newline)

;; 20,000 rings of 10 pairs become garbage; after a collection fewer than 1,000
;; objects more than before remain (without tracing, 200,000 pairs would).
(define (heap-objects) (cdr (assq 'heap-objects (gc-stats))))
(collect)
(define before (heap-objects))
(let loop ((i 0))
  (when (< i 20000)
    (make-ring 10)
    (loop (+ i 1))))
(collect)
(define after (heap-objects))
(display (< (- after before) 1000)) (newline)
