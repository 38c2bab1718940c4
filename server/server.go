package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/statecodec"
	"github.com/edgeauth/edgeauth/userhook"
)

// bodyLimit bounds every request body: the largest legitimate one is a
// token request with a code and a state, a few kilobytes at most.
const bodyLimit = "64K"

// Options are the dependencies of a Server that do not come from Config.
type Options struct {
	Logger *slog.Logger
	// Now is the clock (tests freeze it); time.Now when nil.
	Now func() time.Time
	// HTTPClient, when set, is used for every call to providers (tests use
	// it to reach in-process providers); each provider otherwise builds a
	// client with its own timeout.
	HTTPClient *http.Client
	// DevOP, when set, is mounted at /dev/op with the demo page at / and
	// /callback (edgeauth dev).
	DevOP http.Handler
}

// Server holds the handlers' dependencies.
type Server struct {
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	codec     *statecodec.Codec
	signer    *Signer
	providers map[string]*provider
	order     []string
	devOP     http.Handler
}

// provider is one configured provider: its settings, its relying party,
// and the user webhook that decides who its users are (nil: none).
type provider struct {
	cfg  ProviderConfig
	rp   *oidc.Provider
	hook *userhook.Client
}

// New builds the server from a validated Config (see LoadConfig). It makes
// no network call: providers are discovered on first use, so a cold start
// on a serverless host costs milliseconds.
func New(cfg Config, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	codec, err := statecodec.New(cfg.stateKeys, statecodec.WithClock(opts.Now))
	if err != nil {
		return nil, err
	}
	signer, err := NewSigner(cfg.signingKeys, cfg.TokenIssuer, cfg.TokenAudience, cfg.AccessTTL, opts.Now)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		log:       opts.Logger,
		now:       opts.Now,
		codec:     codec,
		signer:    signer,
		providers: map[string]*provider{},
		devOP:     opts.DevOP,
	}
	hooks := map[string]*userhook.Client{}
	hookFor := func(url string) (*userhook.Client, error) {
		if url == "" {
			return nil, nil
		}
		if c, ok := hooks[url]; ok {
			return c, nil
		}
		hc := cfg.userhookConfig(url)
		hc.Now = opts.Now
		c, err := userhook.New(hc)
		if err != nil {
			return nil, err
		}
		hooks[url] = c
		return c, nil
	}
	for _, pc := range cfg.Providers {
		hookURL := pc.UserhookURL
		if hookURL == "" {
			hookURL = cfg.UserhookURL
		}
		hook, err := hookFor(hookURL)
		if err != nil {
			return nil, err
		}
		oc := pc.OIDC
		oc.Now = opts.Now
		oc.HTTPClient = opts.HTTPClient
		rp, err := oidc.New(oc)
		if err != nil {
			return nil, err
		}
		s.providers[pc.Name] = &provider{cfg: pc, rp: rp, hook: hook}
		s.order = append(s.order, pc.Name)
	}
	return s, nil
}

// Handler returns the Echo application with every route and middleware.
func (s *Server) Handler() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(s.log)
	e.Use(requestID)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisablePrintStack: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.Error("panic", "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "error", err.Error(), "stack", string(stack))
			return err
		},
	}))
	e.Use(s.requestLogger())
	e.Use(middleware.BodyLimit(bodyLimit))
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		ContentTypeNosniff: "nosniff",
		XFrameOptions:      "DENY",
		ReferrerPolicy:     "no-referrer",
	}))
	if len(s.cfg.CORSOrigins) > 0 {
		origins := s.cfg.CORSOrigins
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			// An exact comparison: AllowOrigins would read * and ? as
			// patterns, and credentials are allowed.
			AllowOriginFunc:  func(origin string) (bool, error) { return slices.Contains(origins, origin), nil },
			AllowMethods:     []string{http.MethodGet, http.MethodPost},
			AllowHeaders:     []string{echo.HeaderContentType, echo.HeaderAuthorization},
			AllowCredentials: true,
			MaxAge:           600,
		}))
	}
	s.routes(e)
	return e
}

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

// requestLogger logs one line per request. It logs the path, never the
// query string: the callback's query holds the code and the state.
func (s *Server) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogMethod:    true,
		LogURIPath:   true,
		LogStatus:    true,
		LogLatency:   true,
		LogRequestID: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			s.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("request_id", v.RequestID),
				slog.String("method", v.Method),
				slog.String("path", v.URIPath),
				slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency),
			)
			return nil
		},
	})
}

// Ready reports whether every provider's metadata can be fetched; /readyz
// and `edgeauth check` use it.
func (s *Server) Ready(ctx context.Context) map[string]error {
	out := make(map[string]error, len(s.order))
	for _, name := range s.order {
		out[name] = s.providers[name].rp.Discover(ctx)
	}
	return out
}
