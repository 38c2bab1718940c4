package userhook

import "time"

// Event types sent to the hook. The backend answers all three the same way: who is this person?
const (
	EventLogin   = "user.login"   // a person signed in through a provider
	EventRefresh = "user.refresh" // a refresh token was used; the backend may now refuse the person
	EventConvert = "user.convert" // a provider token was converted into an edgeauth token
)

// Event is the JSON body of one webhook request. It never carries provider tokens,
// authorization codes, state or secrets: only who the person is, as the provider said.
type Event struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"` // when edgeauth saw the login; Send fills it when zero
	Data      EventData `json:"data"`
}

// EventData is the identity the provider asserted.
type EventData struct {
	Provider      string         `json:"provider"` // edgeauth's name for the provider, e.g. "google"
	Issuer        string         `json:"issuer"`
	Subject       string         `json:"subject"` // stable per provider: key users by provider+subject, not email
	Email         string         `json:"email"`
	EmailVerified bool           `json:"email_verified"`
	Name          string         `json:"name"`
	Picture       string         `json:"picture"`
	Claims        map[string]any `json:"claims"`   // verified ID-token claims; null for plain OAuth 2.0 providers
	Userinfo      map[string]any `json:"userinfo"` // userinfo response; null when not fetched
}

// Decision is the backend's answer.
type Decision struct {
	// Allowed is true on a 200 answer and false on a 403.
	Allowed bool
	// UserID is the backend's id for the person (non-empty when Allowed); it becomes the
	// token's "sub". A JSON integer is accepted and kept exactly as written ("42").
	UserID string
	// Claims are extra claims for the token, nil when the hook sent none. Numbers are
	// json.Number so large integers survive the round trip into the token unchanged.
	Claims map[string]any
	// Message is the reason for a refusal, when the backend gave one: plain text (control
	// and bidi-override characters removed, whitespace runs collapsed), at most
	// MaxMessageRunes runes. Shown to the person as is; escape it when rendering HTML.
	Message string
	// Attempts is how many requests it took, retries included, for metrics.
	Attempts int
}
