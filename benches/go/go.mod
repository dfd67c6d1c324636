module tricolor-gc-bench/w2

go 1.19
