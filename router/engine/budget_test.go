package engine

import (
	"strings"
	"sync"
	"testing"
)

func TestRowBudget(t *testing.T) {
	b := &RowBudget{Limit: 100}
	if err := b.Take(60); err != nil {
		t.Fatal(err)
	}
	err := b.Take(50)
	if errnoOf(err) != ErrOutOfResources || !strings.Contains(err.Error(), "limits.merge_memory") {
		t.Fatalf("error %v, want 1041 naming limits.merge_memory", err)
	}
	if b.Used() != 60 {
		t.Fatalf("used %d after a refusal, want 60", b.Used())
	}
	b.Give(60)
	if b.Used() != 0 {
		t.Fatalf("used %d, want 0", b.Used())
	}
	var nb *RowBudget
	if err := nb.Take(1 << 40); err != nil || nb.Used() != 0 {
		t.Fatalf("nil budget: %v", err)
	}
	nb.Give(1)
	unbounded := &RowBudget{}
	if err := unbounded.Take(1 << 40); err != nil {
		t.Fatal(err)
	}
}

func TestRowBudgetConcurrent(t *testing.T) {
	b := &RowBudget{Limit: 1000}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if b.Take(10) == nil {
					b.Give(10)
				}
			}
		}()
	}
	wg.Wait()
	if b.Used() != 0 {
		t.Fatalf("used %d, want 0", b.Used())
	}
}

func TestHolding(t *testing.T) {
	b := &RowBudget{Limit: 1000}
	h := newHolding(&Session{MaxRows: 2, Budget: b}, "sorted rows")
	if err := h.take(2, 500); err != nil {
		t.Fatal(err)
	}
	err := h.take(1, 1)
	if errnoOf(err) != ErrOutOfResources || !strings.Contains(err.Error(), "more than 2 sorted rows") ||
		!strings.Contains(err.Error(), "sharding.max_merge_rows") {
		t.Fatalf("error %v", err)
	}
	h.release()
	if b.Used() != 0 || h.entries != 0 {
		t.Fatalf("used %d, entries %d after release", b.Used(), h.entries)
	}
	h = newHolding(&Session{Budget: b}, "groups")
	if err := h.take(1, 2000); errnoOf(err) != ErrOutOfResources {
		t.Fatalf("error %v, want 1041", err)
	}
}

func TestCopyRow(t *testing.T) {
	r := Row{[]byte("ab"), nil, []byte{}}
	c := copyRow(r)
	r[0][0] = 'x'
	if string(c[0]) != "ab" || c[1] != nil || c[2] == nil || len(c[2]) != 0 {
		t.Fatalf("copy %q", c)
	}
	if rowCost(r) != rowOverhead+3*valueOverhead+2 {
		t.Fatalf("cost %d", rowCost(r))
	}
}
