package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/edgeauth/edgeauth/oidc"
	"github.com/edgeauth/edgeauth/statecodec"
	"github.com/edgeauth/edgeauth/userhook"
)

// metrics are the Prometheus families at /metrics, in a registry of the
// Server's own (never the process-wide default, so two Servers in one
// test binary do not collide). Every label takes values from a closed set
// (configured provider names, route patterns, problem codes, fixed
// outcome words): nothing a client sends becomes a label value.
//
//	edgeauth_logins_total{endpoint,provider,outcome}
//	  endpoint: token (/oauth2/token), refresh, convert (/oauth2/convert-token);
//	  provider: the configured name, "(none)" before one is known;
//	  outcome: "ok" or the problem code answered (expired_state, exchange_failed, …).
//	edgeauth_http_request_duration_seconds{route,method,status}
//	  route: the route pattern (never the raw path), "(no route)" for a 404.
//	edgeauth_provider_request_duration_seconds{provider,endpoint,outcome}
//	  endpoint: discovery, jwks, token, userinfo, revocation, introspection, token_check;
//	  outcome: ok, refused (a 4xx answer such as invalid_grant), http_4xx,
//	  http_5xx, timeout, invalid_answer (malformed, issuer mismatch, no usable key), error.
//	edgeauth_jwks_refreshes_total{provider,outcome}: each JWKS fetch, outcome as above.
//	edgeauth_userhook_requests_total{outcome}: each delivery (retries included in one),
//	  outcome: allowed, denied, or the userhook.Reason in snake case (timeout, status, …).
//	edgeauth_userhook_request_duration_seconds: each delivery, retries included.
//	edgeauth_userhook_retries_total: each retried attempt.
//	edgeauth_state_rejections_total{reason}: flow states refused at /oauth2/token,
//	  reason: expired, unknown_key, malformed, invalid (another purpose or forged).
//
// plus the Go runtime (go_*) and process (process_*) collectors.
type metrics struct {
	reg              *prometheus.Registry
	logins           *prometheus.CounterVec
	httpDuration     *prometheus.HistogramVec
	providerDuration *prometheus.HistogramVec
	jwksRefreshes    *prometheus.CounterVec
	hookRequests     *prometheus.CounterVec
	hookDuration     prometheus.Histogram
	hookRetries      prometheus.Counter
	stateRejections  *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeauth_logins_total",
			Help: "Answers of /oauth2/token (endpoint token), /oauth2/refresh (refresh) and /oauth2/convert-token (convert), by provider and outcome (ok or the problem code).",
		}, []string{"endpoint", "provider", "outcome"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "edgeauth_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern, method and the status sent.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method", "status"}),
		providerDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "edgeauth_provider_request_duration_seconds",
			Help:    "Time of a request to a provider until its answer was read, by endpoint and outcome.",
			Buckets: prometheus.DefBuckets,
		}, []string{"provider", "endpoint", "outcome"}),
		jwksRefreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeauth_jwks_refreshes_total",
			Help: "Fetches of a provider's JWKS, by outcome.",
		}, []string{"provider", "outcome"}),
		hookRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeauth_userhook_requests_total",
			Help: "Deliveries to the user webhook (retries within one delivery count once), by outcome.",
		}, []string{"outcome"}),
		hookDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "edgeauth_userhook_request_duration_seconds",
			Help:    "Time of a delivery to the user webhook, retries and waits included.",
			Buckets: prometheus.DefBuckets,
		}),
		hookRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "edgeauth_userhook_retries_total",
			Help: "Attempts at the user webhook that failed and were retried.",
		}),
		stateRejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "edgeauth_state_rejections_total",
			Help: "Flow states refused at /oauth2/token, by reason: expired, unknown_key (a key missing from EDGEAUTH_STATE_KEYS), malformed, invalid.",
		}, []string{"reason"}),
	}
	m.reg.MustRegister(m.logins, m.httpDuration, m.providerDuration, m.jwksRefreshes,
		m.hookRequests, m.hookDuration, m.hookRetries, m.stateRejections,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

// loginEndpoints are the routes counted in edgeauth_logins_total.
var loginEndpoints = map[string]string{
	"/oauth2/token":         "token",
	"/oauth2/refresh":       "refresh",
	"/oauth2/convert-token": "convert",
}

// ctxProvider names the provider a login request was for, once a handler
// knows it (set with noteProvider).
const ctxProvider = "edgeauth.provider"

// noteProvider records the provider of a login request for the metrics.
func noteProvider(c echo.Context, name string) { c.Set(ctxProvider, name) }

// request is fed by the access log once the answer is sent.
func (m *metrics) request(c echo.Context, route string, status int, p *Problem, d time.Duration) {
	m.httpDuration.WithLabelValues(route, methodLabel(c.Request().Method), statusLabel(status)).Observe(d.Seconds())
	endpoint, ok := loginEndpoints[route]
	if !ok {
		return
	}
	provider, _ := c.Get(ctxProvider).(string)
	if provider == "" {
		provider = "(none)"
	}
	outcome := "ok"
	switch {
	case p != nil:
		outcome = string(p.Code)
	case status >= 400:
		outcome = "status_" + strconv.Itoa(status)
	}
	m.logins.WithLabelValues(endpoint, provider, outcome).Inc()
}

// statusLabel is strconv.Itoa(status) without an allocation for the
// statuses edgeauth sends (this runs on every request).
func statusLabel(status int) string {
	switch status {
	case http.StatusOK:
		return "200"
	case http.StatusNoContent:
		return "204"
	case http.StatusBadRequest:
		return "400"
	case http.StatusUnauthorized:
		return "401"
	case http.StatusForbidden:
		return "403"
	case http.StatusNotFound:
		return "404"
	case http.StatusMethodNotAllowed:
		return "405"
	case http.StatusTooManyRequests:
		return "429"
	case http.StatusInternalServerError:
		return "500"
	case http.StatusBadGateway:
		return "502"
	case http.StatusServiceUnavailable:
		return "503"
	}
	return strconv.Itoa(status)
}

// methodLabel keeps the method label to the methods HTTP defines: a
// client can send any token as a method.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// observer returns the oidc.Config.Observe hook for one provider.
func (m *metrics) observer(provider string) func(oidc.Call) {
	return func(call oidc.Call) {
		outcome := callOutcome(call)
		m.providerDuration.WithLabelValues(provider, call.Endpoint, outcome).Observe(call.Duration.Seconds())
		if call.Endpoint == oidc.CallJWKS {
			m.jwksRefreshes.WithLabelValues(provider, outcome).Inc()
		}
	}
}

func callOutcome(c oidc.Call) string {
	switch {
	case c.Err == nil && c.Status < 400:
		return "ok"
	case c.Err == nil:
		return "refused"
	case c.Status >= 500:
		return "http_5xx"
	case c.Status >= 400:
		return "http_4xx"
	case isTimeout(c.Err):
		return "timeout"
	case c.Status != 0:
		return "invalid_answer"
	}
	return "error"
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	t, ok := errors.AsType[interface {
		error
		Timeout() bool
	}](err)
	return ok && t.Timeout()
}

// stateRejected counts a flow state that did not open.
func (m *metrics) stateRejected(err error) {
	reason := "invalid"
	switch {
	case errors.Is(err, statecodec.ErrExpired):
		reason = "expired"
	case errors.Is(err, statecodec.ErrUnknownKey):
		reason = "unknown_key"
	case errors.Is(err, statecodec.ErrMalformed):
		reason = "malformed"
	}
	m.stateRejections.WithLabelValues(reason).Inc()
}

// hook is a user webhook client whose deliveries are counted.
type hook struct {
	client *userhook.Client
	m      *metrics
}

// Send delivers e like userhook.Client.Send and counts the delivery.
func (h *hook) Send(ctx context.Context, e userhook.Event) (userhook.Decision, error) {
	start := time.Now()
	d, err := h.client.Send(ctx, e)
	h.m.hookDuration.Observe(time.Since(start).Seconds())
	h.m.hookRequests.WithLabelValues(hookOutcome(d, err)).Inc()
	return d, err
}

func hookOutcome(d userhook.Decision, err error) string {
	if err == nil {
		if d.Allowed {
			return "allowed"
		}
		return "denied"
	}
	ue, ok := errors.AsType[*userhook.Error](err)
	if !ok || ue.Reason == "" {
		return "error"
	}
	return strings.NewReplacer(" ", "_", "-", "_").Replace(string(ue.Reason))
}
