// Package entropy supplies the randomness fleetkey generates keys from: bytes from crypto/rand,
// released only after the start-up health tests of NIST SP 800-90B §4.3 pass, namely the
// Repetition Count Test (§4.4.1) and the Adaptive Proportion Test (§4.4.2), and checked again
// by the same tests on every read.
//
// # Parameters
//
// Each byte is one sample. The tests need an assessed min-entropy H per sample. The bytes come
// from the operating system's CSPRNG, whose noise source we cannot observe; its output should
// be indistinguishable from 8 bits per byte, but claiming that would make the cutoffs depend on
// a property we cannot assess. We therefore assess conservatively H = 2 bits per byte: the tests
// stay silent for any source that delivers at least that much (for a working CSPRNG a false
// alarm is far below 2^-60 per read) and fire on the failures that matter for key generation,
// a stuck or grossly biased generator. With the false-positive probability α = 2^-20 that
// SP 800-90B prescribes:
//
//   - Repetition Count Test: cutoff C = 1 + ⌈−log2(α)/H⌉ = 1 + ⌈20/2⌉ = 11, i.e. a run of 11
//     identical bytes fails.
//   - Adaptive Proportion Test, window W = 512 (the non-binary window): cutoff
//     C = 1 + CRITBINOM(W, 2^−H, 1−α) = 177, i.e. the window's first byte occurring 177 or
//     more times in the window of 512 fails. CRITBINOM(n, p, q) is the smallest k with
//     P[Binomial(n, p) ≤ k] ≥ q; aptCutoff computes it and the tests check it against
//     SP 800-90B's Table 2.
//
// The start-up test runs once per process over 1024 bytes (SP 800-90B §4.3 requires at least
// 1024 samples) that are then discarded. A failure, at start-up or later, is permanent for the
// process: every later Read returns the error.
package entropy

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
)

const (
	// AssessedMinEntropy is H, the min-entropy per byte the cutoffs are derived from.
	AssessedMinEntropy = 2.0
	// alphaLog2 is −log2 of the false-positive probability α = 2^-20.
	alphaLog2 = 20
	// RCTCutoff is the Repetition Count Test cutoff: 1 + ⌈20/H⌉.
	RCTCutoff = 11
	// APTWindow is the Adaptive Proportion Test window for non-binary samples.
	APTWindow = 512
	// APTCutoff is the Adaptive Proportion Test cutoff: 1 + CRITBINOM(512, 2^-H, 1-2^-20).
	APTCutoff = 177
	// StartupSamples is the size of the start-up test sample and the minimum HealthTest takes.
	StartupSamples = 1024
	// MaxRead bounds one Read.
	MaxRead = 1 << 20
)

// Errors. ErrRepetitionCount and ErrAdaptiveProportion name the test that failed; callers
// branch on ErrHealthTest to tell a broken generator from a bad argument.
var (
	ErrHealthTest         = errors.New("entropy: health test failed")
	ErrRepetitionCount    = fmt.Errorf("%w: repetition count test", ErrHealthTest)
	ErrAdaptiveProportion = fmt.Errorf("%w: adaptive proportion test", ErrHealthTest)
	ErrSampleTooShort     = fmt.Errorf("entropy: health test needs at least %d bytes", StartupSamples)
	ErrLength             = fmt.Errorf("entropy: length must be 1..%d", MaxRead)
)

// HealthTest runs the Repetition Count Test over the whole sample and the Adaptive Proportion
// Test over each complete 512-byte window (a trailing partial window is not tested). The
// sample must hold at least 1024 bytes.
func HealthTest(sample []byte) error {
	if len(sample) < StartupSamples {
		return ErrSampleTooShort
	}
	return continuousTest(sample)
}

func continuousTest(b []byte) error {
	if err := repetitionCount(b); err != nil {
		return err
	}
	return adaptiveProportion(b)
}

// repetitionCount is SP 800-90B §4.4.1: fail when one value repeats RCTCutoff times in a row.
func repetitionCount(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	a, run := b[0], 1
	for i := 1; i < len(b); i++ {
		if b[i] == a {
			run++
			if run >= RCTCutoff {
				return fmt.Errorf("%w: %d identical bytes in a row ending at offset %d", ErrRepetitionCount, run, i)
			}
		} else {
			a, run = b[i], 1
		}
	}
	return nil
}

// adaptiveProportion is SP 800-90B §4.4.2: in each window, fail when the window's first value
// occurs APTCutoff times.
func adaptiveProportion(b []byte) error {
	for start := 0; start+APTWindow <= len(b); start += APTWindow {
		w := b[start : start+APTWindow]
		a, count := w[0], 1
		for _, v := range w[1:] {
			if v == a {
				count++
			}
		}
		if count >= APTCutoff {
			return fmt.Errorf("%w: first byte of the window at offset %d occurs %d of %d times", ErrAdaptiveProportion, start, count, APTWindow)
		}
	}
	return nil
}

// rctCutoff returns 1 + ⌈alphaLog2/h⌉ (SP 800-90B §4.4.1).
func rctCutoff(h float64) int {
	return 1 + int(math.Ceil(alphaLog2/h))
}

// aptCutoff returns 1 + CRITBINOM(w, 2^-h, 1-2^-alphaLog2) (SP 800-90B §4.4.2): one more than
// the smallest k with P[X > k] <= α for X ~ Binomial(w, 2^-h). The upper tail is summed
// directly in log space so that its 2^-20 scale is not lost to rounding.
func aptCutoff(w int, h float64) int {
	p := math.Exp2(-h)
	alpha := math.Exp2(-alphaLog2)
	lw, _ := math.Lgamma(float64(w + 1))
	logPMF := func(k int) float64 {
		lk, _ := math.Lgamma(float64(k + 1))
		lwk, _ := math.Lgamma(float64(w - k + 1))
		return lw - lk - lwk + float64(k)*math.Log(p) + float64(w-k)*math.Log1p(-p)
	}
	tail := 0.0 // P[X > k] for the current k
	for k := w; k >= 0; k-- {
		// Here tail = P[X > k]. If it already exceeds α, k is below the critical value.
		if tail > alpha {
			return 1 + k + 1
		}
		tail += math.Exp(logPMF(k))
	}
	return 1
}

// source is a health-tested reader. Production uses exactly one, over crypto/rand.Reader; the
// tests build others over faulty readers.
type source struct {
	r       io.Reader
	mu      sync.Mutex
	started bool
	failed  error
}

var system = &source{r: rand.Reader}

// Read returns n (1..MaxRead) bytes from crypto/rand. The first call runs the start-up health
// tests; every call also tests the bytes it returns. After any failure Read keeps failing
// with an error that wraps ErrHealthTest.
func Read(n int) ([]byte, error) {
	return system.read(n)
}

func (s *source) read(n int) ([]byte, error) {
	if n < 1 || n > MaxRead {
		return nil, ErrLength
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.started {
		s.started = true
		sample := make([]byte, StartupSamples)
		if _, err := io.ReadFull(s.r, sample); err != nil {
			s.failed = fmt.Errorf("entropy: reading start-up sample: %w", err)
		} else if err := HealthTest(sample); err != nil {
			s.failed = fmt.Errorf("%w (start-up sample)", err)
		}
		clear(sample)
	}
	if s.failed != nil {
		return nil, s.failed
	}
	out := make([]byte, n)
	if _, err := io.ReadFull(s.r, out); err != nil {
		clear(out)
		return nil, fmt.Errorf("entropy: read: %w", err)
	}
	if err := continuousTest(out); err != nil {
		clear(out)
		s.failed = fmt.Errorf("%w (continuous test of output)", err)
		return nil, s.failed
	}
	return out, nil
}
