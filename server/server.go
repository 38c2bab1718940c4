package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/edgeauth/edgeauth/apitoken"
	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/statecodec"
	"github.com/edgeauth/edgeauth/userhook"
)

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
	states    *statecodec.Codec
	signer    *apitoken.Signer
	verifier  *apitoken.Verifier
	refresh   *apitoken.RefreshCodec
	providers map[string]*provider
	order     []string
	devOP     http.Handler
	metrics   *metrics
}

// provider is one configured provider: its settings, its relying party,
// and the user webhook that decides who its users are (nil: none).
type provider struct {
	cfg  ProviderConfig
	rp   *oidc.Provider
	hook *hook
	// callback is the redirect URI sent to a form_post provider instead
	// of the app's (callback.go), "" for the others.
	callback string
	// warm holds the channel closed when the start-up discovery (WarmUp)
	// has finished; nil when none was started.
	warm atomic.Pointer[chan struct{}]
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
	states, err := statecodec.New(cfg.StateKeys, statecodec.WithClock(opts.Now))
	if err != nil {
		return nil, err
	}
	signer, err := apitoken.NewSigner(apitoken.SignerConfig{
		Keys: cfg.SigningKeys, Issuer: cfg.TokenIssuer, Audience: cfg.TokenAudience, TTL: cfg.AccessTTL, Now: opts.Now,
	})
	if err != nil {
		return nil, err
	}
	refresh, err := apitoken.NewRefreshCodec(cfg.StateKeys, opts.Now)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		log:       opts.Logger,
		now:       opts.Now,
		states:    states,
		signer:    signer,
		verifier:  signer.Verifier(),
		refresh:   refresh,
		providers: map[string]*provider{},
		devOP:     opts.DevOP,
		metrics:   newMetrics(),
	}
	hooks := map[string]*hook{}
	for _, pc := range cfg.Providers {
		hookURL := pc.UserhookURL
		if hookURL == "" {
			hookURL = cfg.Userhook.URL
		}
		if hookURL != "" && hooks[hookURL] == nil {
			hc := cfg.userhookConfig(hookURL)
			hc.Now = opts.Now
			hc.OnRetry = func(int, error) { s.metrics.hookRetries.Inc() }
			client, err := userhook.New(hc)
			if err != nil {
				return nil, err
			}
			hooks[hookURL] = &hook{client: client, m: s.metrics}
		}
		oc := pc.OIDC
		oc.Now = opts.Now
		oc.HTTPClient = opts.HTTPClient
		oc.Observe = s.metrics.observer(pc.Name)
		rp, err := oidc.New(oc)
		if err != nil {
			return nil, err
		}
		s.providers[pc.Name] = &provider{cfg: pc, rp: rp, hook: hooks[hookURL], callback: callbackURI(cfg.PublicURL, pc.Name, rp)}
		s.order = append(s.order, pc.Name)
	}
	return s, nil
}

// Handler returns the Echo application with every route and middleware.
func (s *Server) Handler() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler
	e.JSONSerializer = jsonSerializer{}
	e.IPExtractor = ipExtractor(s.cfg.TrustedProxies)
	// The access log is outermost but for the request id: it sees the
	// status actually sent, panics included.
	e.Use(requestID, s.accessLog, recoverPanics, bodyLimit, s.securityHeaders)
	if len(s.cfg.CORSOrigins) > 0 {
		e.Use(s.cors())
	}
	s.routes(e)
	return e
}

// Ready reports, per provider, whether its metadata and keys can be
// fetched, waiting for them as long as ctx allows (/readyz does not wait
// for a provider still warming up; see readiness).
func (s *Server) Ready(ctx context.Context) map[string]error {
	out := make(map[string]error, len(s.order))
	for _, name := range s.order {
		out[name] = s.providers[name].rp.Discover(ctx)
	}
	return out
}
