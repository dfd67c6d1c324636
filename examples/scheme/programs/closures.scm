;; Closures with shared mutable state: procedures that share one variable through the
;; frame they all close over, and counters made by a generator.

;; An account: three procedures over one `balance` (a parameter of the outer procedure,
;; assigned by the inner ones) and internal defines.
(define (make-account balance)
  (define (deposit! amount)
    (set! balance (+ balance amount))
    balance)
  (define (withdraw! amount)
    (if (> amount balance)
        'insufficient-funds
        (begin (set! balance (- balance amount)) balance)))
  (define (dispatch message)
    (cond ((eq? message 'deposit) deposit!)
          ((eq? message 'withdraw) withdraw!)
          ((eq? message 'balance) balance)
          (else 'unknown-request)))
  dispatch)

(define account (make-account 100))
(display ((account 'deposit) 50)) (newline)
(display ((account 'withdraw) 30)) (newline)
(display ((account 'withdraw) 500)) (newline)
(display (account 'balance)) (newline)
(display (account 'close)) (newline)

;; Counters: each call of make-counter makes a fresh frame.
(define (make-counter)
  (let ((count 0))
    (lambda ()
      (set! count (+ count 1))
      count)))

(define c1 (make-counter))
(define c2 (make-counter))
(c1)
(c1)
(c2)
(display (list (c1) (c2))) (newline)

;; A getter and a setter over one variable.
(define (make-cell value)
  (cons (lambda () value)
        (lambda (new) (set! value new))))
(define cell (make-cell 'before))
((cdr cell) 'after)
(display ((car cell))) (newline)

;; Closures made in a loop capture distinct frames.
(define procs
  (let loop ((i 0) (acc '()))
    (if (= i 3)
        acc
        (loop (+ i 1) (cons (lambda () i) acc)))))
(display (list ((car procs)) ((cadr procs)) ((car (cddr procs))))) (newline)

;; Curried adders, and a procedure that composes two others.
(define (adder n) (lambda (x) (+ x n)))
(define (compose f g) (lambda (x) (f (g x))))
(display ((compose (adder 5) (adder 10)) 1)) (newline)

;; Many counters, made and dropped.
(define (sum-counters n)
  (let loop ((i 0) (total 0))
    (if (= i n)
        total
        (let ((c (make-counter)))
          (c)
          (c)
          (loop (+ i 1) (+ total (c)))))))
(display (sum-counters 100000)) (newline)
