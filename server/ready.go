package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// warmUpTimeout bounds the start-up discovery of one provider: a discovery
// document and a JWKS, each already bounded by the provider's own timeout.
const warmUpTimeout = 30 * time.Second

// readyzTimeout bounds one readiness probe.
const readyzTimeout = 5 * time.Second

// Provider readiness as /readyz reports it.
const (
	readyOK          = "ok"
	readyUnavailable = "unavailable"
	readyLoading     = "loading" // the start-up discovery has not finished
)

// WarmUp starts, for every provider, a background fetch of its discovery
// document and JWKS, and returns at once: serving need not wait, and a
// login that arrives meanwhile joins the fetch in flight (the oidc cache is
// single-flight) instead of starting another. /readyz says "loading" for a
// provider until its warm-up has finished. Call it once, before serving.
func (s *Server) WarmUp(ctx context.Context) {
	for _, name := range s.order {
		p := s.providers[name]
		done := make(chan struct{})
		p.warm.Store(&done)
		go func() {
			defer close(done)
			ctx, cancel := context.WithTimeout(ctx, warmUpTimeout)
			defer cancel()
			if err := p.rp.Discover(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("provider not ready at start; logins will retry it", "provider", name, "error", err)
			}
		}()
	}
}

// warming reports whether p's start-up discovery is still running.
func (p *provider) warming() bool {
	done := p.warm.Load()
	if done == nil {
		return false
	}
	select {
	case <-*done:
		return false
	default:
		return true
	}
}

// readiness checks every provider at once and returns each one's state.
// A provider still warming up is not asked again; the others are asked
// through the oidc cache, which costs no outbound call while its values
// are fresh.
func (s *Server) readiness(ctx context.Context) (bool, map[string]string) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	status := make(map[string]string, len(s.order))
	ready := true
	for _, name := range s.order {
		p := s.providers[name]
		if p.warming() {
			mu.Lock()
			status[name], ready = readyLoading, false
			mu.Unlock()
			continue
		}
		wg.Go(func() {
			err := p.rp.Discover(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				status[name], ready = readyUnavailable, false
				s.log.Warn("provider not ready", "provider", name, "error", err)
				return
			}
			status[name] = readyOK
		})
	}
	wg.Wait()
	return ready, status
}

// readyz says, per provider, whether logins can reach it:
// {ready, providers: {name: ok|unavailable|loading}}, 503 unless all are ok.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), readyzTimeout)
	defer cancel()
	ready, status := s.readiness(ctx)
	code := http.StatusOK
	if !ready {
		code = http.StatusServiceUnavailable
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(code, map[string]any{"ready": ready, "providers": status})
}
