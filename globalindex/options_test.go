package globalindex

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPacer(t *testing.T) {
	p := newPacer(2000) // rows per second
	start := time.Now()
	for range 3 {
		if err := p.wait(context.Background(), 100); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 140*time.Millisecond {
		t.Errorf("300 rows at 2000/s took %v; want at least 150ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := newPacer(1).wait(ctx, 100); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait = %v", err)
	}
	if err := newPacer(0).wait(context.Background(), 1e9); err != nil {
		t.Errorf("unlimited wait = %v", err)
	}
}

// TestEachCluster: the first error cancels the others, whose cancellation
// is not reported; every real error is, naming its cluster.
func TestEachCluster(t *testing.T) {
	err := eachCluster(context.Background(), []string{"s0", "s1", "s2"}, func(ctx context.Context, c string) error {
		switch c {
		case "s1":
			return errors.New("cluster s1: broken")
		default:
			<-ctx.Done()
			return ctx.Err()
		}
	})
	if err == nil || err.Error() != "cluster s1: broken" {
		t.Fatalf("err = %v", err)
	}
	err = eachCluster(context.Background(), []string{"s0", "s1"}, func(_ context.Context, c string) error {
		return errors.New("cluster " + c + ": down")
	})
	if err == nil || !strings.Contains(err.Error(), "s0: down") || !strings.Contains(err.Error(), "s1: down") {
		t.Fatalf("err = %v", err)
	}
}

func TestSamples(t *testing.T) {
	s := &samples[int]{max: 2}
	s.add(1, 2, 3)
	s.add(4)
	if s.count != 4 || len(s.list) != 2 || s.list[1] != 2 {
		t.Errorf("samples = %d %v", s.count, s.list)
	}
}
