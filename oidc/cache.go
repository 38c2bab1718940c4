package oidc

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Backoff after failed fetches: the first retry waits backoffMin, each
// further failure doubles it up to backoffMax. Meanwhile callers get the
// last good value (or, before any success, the last error) at once, so a
// provider outage costs us one request per interval, not one per login.
const (
	backoffMin = time.Second
	backoffMax = 30 * time.Second
	// maxStale bounds how long a value may be served past maxAge while
	// fetches fail: a key the provider withdrew (after a compromise, say)
	// must not stay trusted for as long as its endpoint is unreachable.
	maxStale = 24 * time.Hour
)

// remote keeps one value fetched over the network (a discovery document,
// a JWKS). Fetching is lazy; concurrent callers share one in-flight fetch;
// a value older than maxAge is fetched again on the next use; a failed
// fetch keeps the previous value. It needs no background goroutine beyond
// the fetch itself, which fits serverless instances that freeze between
// requests.
type remote[T any] struct {
	fetch  func(ctx context.Context) (T, error)
	maxAge time.Duration
	// minForced spaces forced refreshes (see refresh).
	minForced time.Duration
	timeout   time.Duration

	mu        sync.Mutex
	val       T
	have      bool
	fetchedAt time.Time
	err       error // last failure; nil after a success
	failures  int
	retryAt   time.Time
	forcedAt  time.Time // last forced refresh; zero before the first
	inflight  *flight[T]
}

type flight[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// get returns the value, fetching it when there is none yet or when it is
// older than maxAge. Once a fetch has succeeded, later failures return the
// stale value rather than an error.
func (r *remote[T]) get(ctx context.Context) (T, error) {
	r.mu.Lock()
	now := time.Now()
	if r.have && now.Sub(r.fetchedAt) < r.maxAge {
		v := r.val
		r.mu.Unlock()
		return v, nil
	}
	if r.inflight == nil && r.err != nil && now.Before(r.retryAt) {
		return r.current()
	}
	v, err := r.join(ctx)
	if err != nil {
		r.mu.Lock()
		stale, have, fetchedAt := r.val, r.have, r.fetchedAt
		r.mu.Unlock()
		if have && time.Since(fetchedAt) < r.maxAge+maxStale {
			return stale, nil
		}
		return v, err
	}
	return v, nil
}

// current returns the last good value, or the last error when there is
// none. It is called with r.mu held and releases it.
func (r *remote[T]) current() (T, error) {
	v, have, err, fetchedAt := r.val, r.have, r.err, r.fetchedAt
	r.mu.Unlock()
	if have && time.Since(fetchedAt) < r.maxAge+maxStale {
		return v, nil
	}
	if err == nil {
		err = errors.New("oidc: cached value too old and no fresh one")
	}
	return v, err
}

// refresh fetches the value again even though it is fresh: the caller saw
// a kid it does not know. To bound what made-up kids can cost, forced
// refreshes happen at most once per minForced, but the first one is always
// allowed, so a provider that rotated its key just after our first fetch
// still works on the very next login. A fetch already in flight is joined
// instead. It returns the newest value held, which a concurrent refresh
// may have brought even when this call fetched nothing, and the error of
// a fetch that failed.
func (r *remote[T]) refresh(ctx context.Context) (T, error) {
	r.mu.Lock()
	now := time.Now()
	if r.inflight == nil {
		limited := !r.forcedAt.IsZero() && now.Sub(r.forcedAt) < r.minForced
		backingOff := r.err != nil && now.Before(r.retryAt)
		if limited || backingOff {
			v := r.val
			r.mu.Unlock()
			return v, nil
		}
		r.forcedAt = now
	}
	v, err := r.join(ctx)
	if err != nil {
		r.mu.Lock()
		v = r.val
		r.mu.Unlock()
	}
	return v, err
}

// join waits for the in-flight fetch, starting one if there is none. It is
// called with r.mu held and releases it. The fetch runs in its own
// goroutine with a context that survives the caller's cancellation (other
// callers may be waiting on it) but not the per-call timeout, so each
// caller can give up on its own context without spoiling the fetch for the
// others.
func (r *remote[T]) join(ctx context.Context) (T, error) {
	f := r.inflight
	if f == nil {
		f = &flight[T]{done: make(chan struct{})}
		r.inflight = f
		fetchCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
		go func() {
			defer cancel()
			v, err := r.fetch(fetchCtx)
			r.finish(f, v, err)
		}()
	}
	r.mu.Unlock()

	// A caller that has already given up gets its own error, whatever
	// select would pick when both are ready.
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

func (r *remote[T]) finish(f *flight[T], v T, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if err == nil {
		r.val, r.have, r.fetchedAt = v, true, now
		r.err, r.failures = nil, 0
	} else {
		r.err = err
		r.failures++
		backoff := backoffMin << min(r.failures-1, 10)
		r.retryAt = now.Add(min(backoff, backoffMax))
	}
	r.inflight = nil
	f.val, f.err = v, err
	close(f.done)
}
