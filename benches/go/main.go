// Command w2 is the Go peer of the tricolor-gc pause-time harness: workload W2 or W3
// (-workload) of DESIGN.md §10 on Go's own collector, with the same trees, sizes and loop
// as the Rust runtimes (benches/src/runtimes/handles.rs). The harness builds and runs it
// (benches/src/runtimes/go.rs); it is not meant to be run by hand.
//
// The program:
//  1. Builds the live set: for each mutator goroutine, -slots trees of -live-depth, each
//     node two child pointers and a 16-byte payload (value, checksum): 32 bytes, Go's
//     32-byte size class, as the harness's estimate says. In W3 each node also holds a
//     plain pointer to its parent (40 bytes, the 48-byte class), so every dropped tree
//     is cyclic garbage; the check then also verifies every parent pointer.
//  2. Churns for -duration seconds on every mutator: build a -churn-depth tree, check
//     and drop it; with probability -replace-fraction build a new live tree, swap it
//     into a random slot and check the old one. The gap between two iterations is
//     recorded in a histogram (3 significant digits, as the harness's HdrHistogram),
//     and gaps above -gap-threshold-us are kept as raw samples.
//  3. A sampler goroutine records every 5 ms the heap bytes and heap goal
//     (runtime/metrics) and the process RSS (/proc/self/statm).
//  4. Prints one JSON object on stdout. The collector's stop-the-world pauses are not
//     measured here: the harness runs this program with GODEBUG=gctrace=1 and reads them,
//     with each cycle's phases and live heap, from the trace lines on stderr.
//
// With -progress, it also prints "progress <churn ms> <nodes>" lines on stderr every
// 200 ms and "phase churn" when the churn starts, for the harness's progress line.
//
// Only the standard library is used (no modules to fetch).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// processStart approximates the runtime's start, the origin of gctrace's @ times.
var processStart = time.Now()

type payload struct{ value, check uint64 }

type node struct {
	left, right *node
	p           payload
}

// mix is SplitMix64's finaliser, the harness's payload checksum.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func build(depth int, rng *rand.Rand) *node {
	n := &node{}
	if depth > 0 {
		n.left = build(depth-1, rng)
		n.right = build(depth-1, rng)
	}
	v := rng.Uint64()
	n.p = payload{v, mix(v)}
	return n
}

// check returns the node count, or -1 if a payload is broken.
func check(n *node) int64 {
	if n.p.check != mix(n.p.value) {
		return -1
	}
	count := int64(1)
	if n.left != nil {
		l, r := check(n.left), check(n.right)
		if l < 0 || r < 0 {
			return -1
		}
		count += l + r
	}
	return count
}

// cnode is W3's node: a W2 node plus a pointer to its parent (nil at the root).
type cnode struct {
	left, right, parent *cnode
	p                   payload
}

func buildCyclic(depth int, rng *rand.Rand) *cnode {
	n := &cnode{}
	if depth > 0 {
		n.left = buildCyclic(depth-1, rng)
		n.right = buildCyclic(depth-1, rng)
		n.left.parent = n
		n.right.parent = n
	}
	v := rng.Uint64()
	n.p = payload{v, mix(v)}
	return n
}

// checkCyclic returns the node count, or -1 if a payload or a parent pointer is broken.
func checkCyclic(root *cnode) int64 {
	var walk func(n, parent *cnode) int64
	walk = func(n, parent *cnode) int64 {
		if n.p.check != mix(n.p.value) || n.parent != parent {
			return -1
		}
		count := int64(1)
		if n.left != nil {
			l, r := walk(n.left, n), walk(n.right, n)
			if l < 0 || r < 0 {
				return -1
			}
			count += l + r
		}
		return count
	}
	return walk(root, nil)
}

func nodesIn(depth int) int64 { return (int64(1) << (depth + 1)) - 1 }

// bucket rounds ns up to 3 significant digits (the top of its HdrHistogram-like bucket).
func bucket(ns int64) int64 {
	p := int64(1)
	for ns/p >= 1000 {
		p *= 10
	}
	return ns/p*p + p - 1
}

type thread struct {
	hist       map[int64]uint64
	maxGap     int64
	samples    [][3]int64 // thread, t_ns, gap_ns
	dropped    uint64
	nodes      int64
	iterations int64
	replaced   int64
	err        string
}

const maxRawSamples = 1 << 20

type point [4]int64 // t_ns, heap_bytes, heap_goal_bytes, rss_bytes (-1: unknown)

type output struct {
	GoVersion     string     `json:"go_version"`
	EstNodeBytes  int        `json:"est_node_bytes"`
	BuildNs       int64      `json:"build_ns"`
	BuildRssBytes int64      `json:"build_rss_bytes"`
	ChurnStartNs  int64      `json:"churn_start_ns"`
	ChurnNs       int64      `json:"churn_ns"`
	Nodes         int64      `json:"nodes"`
	Iterations    int64      `json:"iterations"`
	Replaced      int64      `json:"replaced"`
	GapHist       [][2]int64 `json:"gap_hist"`
	MaxGapNs      []int64    `json:"max_gap_ns"`
	Samples       [][3]int64 `json:"samples"`
	Dropped       uint64     `json:"dropped"`
	Timeline      []point    `json:"timeline"`
	PeakRssBytes  int64      `json:"peak_rss_bytes"`
	Error         string     `json:"error,omitempty"`
}

func rssBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return -1
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return -1
	}
	return pages * int64(os.Getpagesize())
}

func peakRssBytes() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			if kib, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				return kib * 1024
			}
		}
	}
	return -1
}

// heapMetrics reads the heap bytes and goal; -1 where this Go lacks the metric.
func heapMetrics(s []metrics.Sample) (int64, int64) {
	metrics.Read(s)
	v := func(i int) int64 {
		if s[i].Value.Kind() == metrics.KindUint64 {
			return int64(s[i].Value.Uint64())
		}
		return -1
	}
	return v(0), v(1)
}

// config is the command line, checked.
type config struct {
	perThread             []int
	duration, replace     float64
	churnDepth, liveDepth int
	thresholdUs, seed     int64
	progress              bool
	nodeBytes             int
}

func main() {
	workload := flag.String("workload", "w2", "w2 (acyclic trees) or w3 (every node also points to its parent)")
	slots := flag.String("slots", "1", "live trees per mutator, comma-separated (one entry per mutator)")
	duration := flag.Float64("duration", 10, "churn seconds")
	replace := flag.Float64("replace-fraction", 0.1, "probability per iteration of replacing a live tree")
	churnDepth := flag.Int("churn-depth", 4, "depth of the short-lived tree")
	liveDepth := flag.Int("live-depth", 4, "depth of each live tree")
	thresholdUs := flag.Int64("gap-threshold-us", 100, "gaps above this are kept as raw samples")
	seed := flag.Int64("seed", 1, "random seed")
	progress := flag.Bool("progress", false, "progress lines on stderr")
	flag.Parse()

	cfg := config{
		duration:    *duration,
		replace:     *replace,
		churnDepth:  *churnDepth,
		liveDepth:   *liveDepth,
		thresholdUs: *thresholdUs,
		seed:        *seed,
		progress:    *progress,
	}
	for _, s := range strings.Split(*slots, ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			fmt.Fprintf(os.Stderr, "w2: bad -slots %q\n", *slots)
			os.Exit(2)
		}
		cfg.perThread = append(cfg.perThread, n)
	}
	var out output
	switch *workload {
	case "w2":
		cfg.nodeBytes = 32
		out = run(cfg, build, check)
	case "w3":
		cfg.nodeBytes = 48
		out = run(cfg, buildCyclic, checkCyclic)
	default:
		fmt.Fprintf(os.Stderr, "w2: bad -workload %q (w2 or w3)\n", *workload)
		os.Exit(2)
	}
	enc := json.NewEncoder(os.Stdout)
	if err := enc.Encode(out); err != nil {
		fmt.Fprintf(os.Stderr, "w2: %v\n", err)
		os.Exit(1)
	}
	if out.Error != "" {
		os.Exit(1)
	}
}

// run builds the live set and churns it with trees made by build and verified by check
// (which returns the node count, or -1 for a broken tree).
func run[T any](cfg config, build func(int, *rand.Rand) T, check func(T) int64) output {
	perThread := cfg.perThread
	threads := len(perThread)
	liveNodes, churnNodes := nodesIn(cfg.liveDepth), nodesIn(cfg.churnDepth)
	threshold := cfg.thresholdUs * 1000

	rssBefore := rssBytes()
	buildStart := time.Now()
	live := make([][]T, threads)
	rngs := make([]*rand.Rand, threads)
	var built sync.WaitGroup
	for i := 0; i < threads; i++ {
		built.Add(1)
		go func(i int) {
			defer built.Done()
			rngs[i] = rand.New(rand.NewSource(cfg.seed*1_000_003 + int64(i)))
			live[i] = make([]T, perThread[i])
			for s := range live[i] {
				live[i][s] = build(cfg.liveDepth, rngs[i])
			}
		}(i)
	}
	built.Wait()
	buildNs := time.Since(buildStart).Nanoseconds()
	buildRss := rssBytes() - rssBefore

	var allocated atomic.Int64
	start := time.Now()
	deadline := start.Add(time.Duration(cfg.duration * float64(time.Second)))
	if cfg.progress {
		fmt.Fprintln(os.Stderr, "phase churn")
	}
	stop := make(chan struct{})
	timelineDone := make(chan []point)
	go func() {
		s := []metrics.Sample{
			{Name: "/memory/classes/heap/objects:bytes"},
			{Name: "/gc/heap/goal:bytes"},
		}
		var pts []point
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		lastProgress := start
		for {
			select {
			case <-stop:
				timelineDone <- pts
				return
			case now := <-tick.C:
				heap, goal := heapMetrics(s)
				pts = append(pts, point{now.Sub(start).Nanoseconds(), heap, goal, rssBytes()})
				if cfg.progress && now.Sub(lastProgress) >= 200*time.Millisecond {
					lastProgress = now
					fmt.Fprintf(os.Stderr, "progress %d %d\n", now.Sub(start).Milliseconds(), allocated.Load())
				}
			}
		}
	}()

	results := make([]thread, threads)
	var churned sync.WaitGroup
	for i := 0; i < threads; i++ {
		churned.Add(1)
		go func(i int) {
			defer churned.Done()
			r := &results[i]
			r.hist = make(map[int64]uint64)
			rng, slots := rngs[i], live[i]
			last := start
			published := int64(0)
			for {
				t := build(cfg.churnDepth, rng)
				if check(t) != churnNodes {
					r.err = fmt.Sprintf("mutator %d: a short-lived tree failed its check", i)
					return
				}
				r.nodes += churnNodes
				if len(slots) > 0 && rng.Float64() < cfg.replace {
					j := rng.Intn(len(slots))
					old := slots[j]
					slots[j] = build(cfg.liveDepth, rng)
					if check(old) != liveNodes {
						r.err = fmt.Sprintf("mutator %d: a live tree failed its check", i)
						return
					}
					r.nodes += liveNodes
					r.replaced++
				}
				r.iterations++
				now := time.Now()
				gap := now.Sub(last).Nanoseconds()
				last = now
				r.hist[bucket(gap)]++
				if gap > r.maxGap {
					r.maxGap = gap
				}
				if gap > threshold {
					if len(r.samples) < maxRawSamples {
						r.samples = append(r.samples, [3]int64{int64(i), now.Sub(start).Nanoseconds(), gap})
					} else {
						r.dropped++
					}
				}
				if r.iterations%256 == 0 {
					allocated.Add(r.nodes - published)
					published = r.nodes
				}
				if !now.Before(deadline) {
					return
				}
			}
		}(i)
	}
	churned.Wait()
	churnNs := time.Since(start).Nanoseconds()
	close(stop)
	timeline := <-timelineDone
	runtime.KeepAlive(live)

	out := output{
		GoVersion:     runtime.Version(),
		EstNodeBytes:  cfg.nodeBytes,
		BuildNs:       buildNs,
		BuildRssBytes: buildRss,
		ChurnStartNs:  start.Sub(processStart).Nanoseconds(),
		ChurnNs:       churnNs,
		Timeline:      timeline,
		PeakRssBytes:  peakRssBytes(),
		GapHist:       [][2]int64{},
		Samples:       [][3]int64{},
	}
	merged := make(map[int64]uint64)
	for _, r := range results {
		if r.err != "" && out.Error == "" {
			out.Error = r.err
		}
		out.Nodes += r.nodes
		out.Iterations += r.iterations
		out.Replaced += r.replaced
		out.MaxGapNs = append(out.MaxGapNs, r.maxGap)
		out.Samples = append(out.Samples, r.samples...)
		out.Dropped += r.dropped
		for k, v := range r.hist {
			merged[k] += v
		}
	}
	for k, v := range merged {
		out.GapHist = append(out.GapHist, [2]int64{k, int64(v)})
	}
	return out
}
