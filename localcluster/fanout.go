package localcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// forEach runs fn for every instance: one runs inline, several get a
// goroutine each. The first error cancels the others; all errors are joined,
// each naming its instance. fn receives the instance's index in insts.
func forEach(ctx context.Context, insts []Instance, fn func(ctx context.Context, i int, inst Instance) error) error {
	if len(insts) == 1 {
		if err := fn(ctx, 0, insts[0]); err != nil {
			return fmt.Errorf("%s: %w", insts[0].Name, err)
		}
		return nil
	}
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make([]error, len(insts))
	var wg sync.WaitGroup
	for i, inst := range insts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(ctx, i, inst); err != nil {
				errs[i] = fmt.Errorf("%s: %w", inst.Name, err)
				cancel()
			}
		}()
	}
	wg.Wait()
	return errors.Join(withoutEchoes(parent, errs)...)
}

// withoutEchoes drops the context.Canceled errors that our own cancel caused
// in the siblings of a failed call, keeping the error that started it.
func withoutEchoes(parent context.Context, errs []error) []error {
	if parent.Err() != nil {
		return errs
	}
	var cause, echoes []error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			echoes = append(echoes, err)
		default:
			cause = append(cause, err)
		}
	}
	if len(cause) == 0 {
		return echoes
	}
	return cause
}

// progress writes progress lines to a writer shared by goroutines.
type progress struct {
	mu sync.Mutex
	w  io.Writer
}

func newProgress(w io.Writer) *progress {
	if w == nil {
		w = io.Discard
	}
	return &progress{w: w}
}

func (p *progress) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "localcluster: "+format+"\n", args...)
}
