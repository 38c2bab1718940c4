package server

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"
)

// maxBody bounds every request body: the largest legitimate one is a token
// request with a code and a state, or a provider ID token, a few KiB.
const maxBody = "64K"

// apiCSP is the Content-Security-Policy of every API answer: nothing in it
// is meant to be rendered, framed or to load anything.
const apiCSP = "default-src 'none'; frame-ancestors 'none'"

// Context keys set by the middleware for the access log.
const (
	ctxProblem = "edgeauth.problem"
	ctxLogger  = "edgeauth.logger"
)

// requestID tags each request and its answer with an id for the logs. An
// incoming X-Request-Id from a proxy is kept for correlation only when it
// looks like one (short, plain characters); anything else is replaced, so
// a client cannot stuff log lines or problem bodies.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !plainID(id) {
			b := make([]byte, 12)
			_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
			id = base64.RawURLEncoding.EncodeToString(b)
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func plainID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// accessLog writes one line per request, after the answer, and feeds the
// request metrics (metrics.go): method, route,
// the status actually sent, latency, request id, and for a failure its code
// and internal cause. It renders the error itself (c.Error) so that the
// status it logs is the one the client got. The path is logged, never the
// query string: a callback's query holds the code and the state.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := c.Response().Header().Get(echo.HeaderXRequestID)
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "(no route)"
		}
		status := c.Response().Status
		latency := time.Since(start)
		p, _ := c.Get(ctxProblem).(*Problem)
		s.metrics.request(c, route, status, p, latency)
		attrs := []slog.Attr{
			slog.String("request_id", id),
			slog.String("method", c.Request().Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("latency", latency),
		}
		level := slog.LevelInfo
		if p != nil {
			attrs = append(attrs, slog.String("code", string(p.Code)))
			if p.Check != "" {
				attrs = append(attrs, slog.String("check", p.Check))
			}
			if p.cause != nil {
				attrs = append(attrs, causeAttr(p.cause))
			}
		}
		// A 503 from /readyz is a state (a provider loading or down), not a
		// failure of this request: at start it would flood the error log.
		if status >= 500 && route != "/readyz" {
			level = slog.LevelError
		}
		s.log.LogAttrs(c.Request().Context(), level, "request", attrs...)
		return nil
	}
}

// reqLog is the logger for a handler's own lines: it carries the request
// id. It is made on first use: most requests log nothing but the access line.
func (s *Server) reqLog(c echo.Context) *slog.Logger {
	if l, ok := c.Get(ctxLogger).(*slog.Logger); ok {
		return l
	}
	l := s.log.With("request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	c.Set(ctxLogger, l)
	return l
}

// recoverPanics turns a panic into a 500 whose stack goes to the log only.
func recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		return next(c)
	}
}

var bodyLimit = middleware.BodyLimit(maxBody)

// securityHeaders are set on every answer; the dev pages replace the CSP
// with one that fits them.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	// Built once: setting them is then a map write per header, not a new
	// slice per request. A handler that changes one (the dev page's CSP)
	// replaces the slice with Set, never appends to the shared one.
	fixed := map[string][]string{
		"X-Content-Type-Options":  {"nosniff"},
		"X-Frame-Options":         {"DENY"},
		"Referrer-Policy":         {"no-referrer"},
		"Content-Security-Policy": {apiCSP},
	}
	if strings.HasPrefix(s.cfg.PublicURL, "https://") {
		// No includeSubDomains: the operator's other hosts are not ours
		// to pin.
		fixed["Strict-Transport-Security"] = []string{"max-age=31536000"}
	}
	return func(c echo.Context) error {
		h := c.Response().Header()
		for k, v := range fixed {
			h[k] = v
		}
		return next(c)
	}
}

func (s *Server) cors() echo.MiddlewareFunc {
	origins := s.cfg.CORSOrigins
	return middleware.CORSWithConfig(middleware.CORSConfig{
		// An exact comparison: AllowOrigins would read * and ? as
		// patterns, and credentials are allowed.
		AllowOriginFunc:  func(origin string) (bool, error) { return slices.Contains(origins, origin), nil },
		AllowMethods:     []string{http.MethodGet, http.MethodPost},
		AllowHeaders:     []string{echo.HeaderContentType, echo.HeaderAuthorization},
		ExposeHeaders:    []string{"Retry-After", echo.HeaderXRequestID},
		AllowCredentials: true,
		MaxAge:           600,
	})
}

// rateLimit bounds, per client address, the endpoints that call a provider
// or mint tokens: without it, anonymous junk codes each cost a call to the
// provider's token endpoint with our client secret, and a provider that
// throttles our client locks everyone out. Limits are per replica. IPv6
// clients are counted per /64, the block one subscriber usually holds.
func (s *Server) rateLimit() echo.MiddlewareFunc {
	rl := s.cfg.RateLimit
	if rl.Requests <= 0 {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	store := middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate:      rate.Limit(float64(rl.Requests) / rl.Per.Seconds()),
		Burst:     rl.Requests,
		ExpiresIn: max(3*time.Minute, rl.Per),
	})
	retryAfter := int(math.Ceil(rl.Per.Seconds() / float64(rl.Requests)))
	return middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store:               store,
		IdentifierExtractor: func(c echo.Context) (string, error) { return clientKey(c.RealIP()), nil },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			p := problem(http.StatusTooManyRequests, CodeRateLimited,
				fmt.Sprintf("more than %d requests per %s from this address; retry after %d s (EDGEAUTH_RATE_LIMIT)", rl.Requests, rl.Per, retryAfter), nil)
			p.retryAfter = retryAfter
			return p
		},
		ErrorHandler: func(c echo.Context, err error) error {
			return problem(http.StatusInternalServerError, CodeInternalError, "rate limiter failed", err)
		},
	})
}

// clientKey is the rate-limit identity of an address: itself for IPv4, its
// /64 for IPv6.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// ipExtractor reads the client address from the connection, or from
// X-Forwarded-For when the connection comes from a trusted proxy. With no
// proxies configured the header is ignored: anyone can write it.
func ipExtractor(trusted []netip.Prefix) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// causeAttr logs an internal cause; one that knows how to log itself
// (oidc.Error keeps the provider's answer out of Error() but logs it) does.
func causeAttr(err error) slog.Attr {
	var lv slog.LogValuer
	if errors.As(err, &lv) {
		return slog.Any("cause", lv)
	}
	return slog.String("cause", err.Error())
}
