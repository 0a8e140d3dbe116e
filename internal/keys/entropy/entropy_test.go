package entropy

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"
)

func TestCutoffs(t *testing.T) {
	if got := rctCutoff(AssessedMinEntropy); got != RCTCutoff {
		t.Errorf("rctCutoff(%v) = %d, constant RCTCutoff = %d", AssessedMinEntropy, got, RCTCutoff)
	}
	if got := aptCutoff(APTWindow, AssessedMinEntropy); got != APTCutoff {
		t.Errorf("aptCutoff(512, %v) = %d, constant APTCutoff = %d", AssessedMinEntropy, got, APTCutoff)
	}
	// SP 800-90B Table 2 (α = 2^-20), column W = 512, and the RCT cutoffs of §4.4.1.
	for _, tc := range []struct {
		h        float64
		apt, rct int
	}{
		{0.5, 410, 41},
		{1, 311, 21},
		{2, 177, 11},
		{4, 62, 6},
		{8, 13, 4},
	} {
		if got := aptCutoff(512, tc.h); got != tc.apt {
			t.Errorf("aptCutoff(512, %v) = %d, want %d", tc.h, got, tc.apt)
		}
		if got := rctCutoff(tc.h); got != tc.rct {
			t.Errorf("rctCutoff(%v) = %d, want %d", tc.h, got, tc.rct)
		}
	}
}

func randomSample(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		t.Fatal(err)
	}
	return b
}

// noRuns rewrites b so that no byte equals its predecessor and none equals avoid, keeping
// test samples free of accidental runs or matches.
func noRuns(b []byte, avoid byte) []byte {
	for i := range b {
		for b[i] == avoid || (i > 0 && b[i] == b[i-1]) {
			b[i]++
		}
	}
	return b
}

func TestHealthTest(t *testing.T) {
	t.Run("crypto/rand passes", func(t *testing.T) {
		for range 200 {
			if err := HealthTest(randomSample(t, StartupSamples)); err != nil {
				t.Fatal(err)
			}
		}
		if err := HealthTest(randomSample(t, 64*1024)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("too short", func(t *testing.T) {
		if err := HealthTest(randomSample(t, StartupSamples-1)); !errors.Is(err, ErrSampleTooShort) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("stuck source fails RCT", func(t *testing.T) {
		err := HealthTest(bytes.Repeat([]byte{0x42}, StartupSamples))
		if !errors.Is(err, ErrRepetitionCount) || !errors.Is(err, ErrHealthTest) {
			t.Fatalf("err = %v, want ErrRepetitionCount", err)
		}
	})
	t.Run("RCT cutoff is exact", func(t *testing.T) {
		for _, run := range []int{RCTCutoff - 1, RCTCutoff} {
			s := noRuns(randomSample(t, StartupSamples), 0x00)
			copy(s[700:], bytes.Repeat([]byte{0x00}, run))
			err := HealthTest(s)
			if fail := errors.Is(err, ErrRepetitionCount); fail != (run >= RCTCutoff) {
				t.Errorf("run of %d: err = %v", run, err)
			}
		}
	})
	t.Run("biased source fails APT", func(t *testing.T) {
		// 0xAA on every other byte: no run longer than 1, so only the proportion test can
		// notice that half of each window is one value.
		s := noRuns(randomSample(t, StartupSamples), 0xAA)
		for i := 0; i < len(s); i += 2 {
			s[i] = 0xAA
		}
		err := HealthTest(s)
		if !errors.Is(err, ErrAdaptiveProportion) {
			t.Fatalf("err = %v, want ErrAdaptiveProportion", err)
		}
		if errors.Is(err, ErrRepetitionCount) {
			t.Fatal("RCT fired on a sample without runs")
		}
	})
	t.Run("APT cutoff is exact", func(t *testing.T) {
		for _, count := range []int{APTCutoff - 1, APTCutoff} {
			s := noRuns(randomSample(t, StartupSamples), 0xAA)
			// Window 2 (offset 512): its first byte and count-1 more spread out.
			for i := 0; i < count; i++ {
				s[APTWindow+2*i] = 0xAA
			}
			err := HealthTest(s)
			if fail := errors.Is(err, ErrAdaptiveProportion); fail != (count >= APTCutoff) {
				t.Errorf("count %d: err = %v", count, err)
			}
		}
	})
}

// stuckReader returns the same byte forever and counts reads.
type stuckReader struct{ reads int }

func (r *stuckReader) Read(p []byte) (int, error) {
	r.reads++
	for i := range p {
		p[i] = 0x42
	}
	return len(p), nil
}

// switchReader is healthy until broken is set, then stuck.
type switchReader struct{ broken bool }

func (r *switchReader) Read(p []byte) (int, error) {
	if r.broken {
		clear(p)
		return len(p), nil
	}
	return rand.Read(p)
}

func TestRead(t *testing.T) {
	a, err := Read(32)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Read(32)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 32 || len(b) != 32 || bytes.Equal(a, b) {
		t.Fatalf("Read gave %x and %x", a, b)
	}
	if !system.started || system.failed != nil || system.r != rand.Reader {
		t.Fatal("production source is not a started crypto/rand.Reader")
	}
	for _, n := range []int{0, -1, MaxRead + 1} {
		if _, err := Read(n); !errors.Is(err, ErrLength) {
			t.Errorf("Read(%d) err = %v", n, err)
		}
	}
	if big, err := Read(MaxRead); err != nil || len(big) != MaxRead {
		t.Errorf("Read(MaxRead): %d bytes, %v", len(big), err)
	}
}

func TestStartupFailureIsPermanent(t *testing.T) {
	r := &stuckReader{}
	s := &source{r: r}
	for range 3 {
		out, err := s.read(32)
		if out != nil || !errors.Is(err, ErrRepetitionCount) {
			t.Fatalf("read from stuck source: %x, %v", out, err)
		}
	}
	if r.reads != 1 {
		t.Errorf("stuck source read %d times, want only the start-up sample", r.reads)
	}
}

func TestContinuousFailure(t *testing.T) {
	r := &switchReader{}
	s := &source{r: r}
	if _, err := s.read(64); err != nil {
		t.Fatal(err)
	}
	r.broken = true
	if out, err := s.read(64); out != nil || !errors.Is(err, ErrRepetitionCount) {
		t.Fatalf("stuck output passed: %x, %v", out, err)
	}
	r.broken = false
	if _, err := s.read(64); !errors.Is(err, ErrHealthTest) {
		t.Fatalf("source recovered after a failure: %v", err)
	}
}

func TestReadError(t *testing.T) {
	s := &source{r: io.LimitReader(rand.Reader, StartupSamples+10)}
	if _, err := s.read(32); err == nil || errors.Is(err, ErrHealthTest) {
		t.Fatalf("short reader: err = %v, want a read error", err)
	}
}

func BenchmarkRead32(b *testing.B) {
	for b.Loop() {
		if _, err := Read(32); err != nil {
			b.Fatal(err)
		}
	}
}
