package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"testing"

	"github.com/edgeauth/edgeauth/server"
)

// readmePresets are the presets the README's Providers section gives a
// copy-paste block for, each marked `<!-- tested: provider-NAME -->`.
var readmePresets = []string{
	"apple", "auth0", "discord", "facebook", "github", "gitlab", "google", "keycloak",
	"linkedin", "microsoft", "okta", "slack", "twitter", "zitadel",
}

// TestReadmeProviderBlocks takes each provider's environment lines as a
// reader pastes them, with only the elided secrets filled in (a client
// secret of "...", Apple's key file), and starts a server from them: a
// block with a wrong variable name, a missing required setting or a value
// the preset refuses fails here. No provider is reached: oidc makes no
// call until the first login.
func TestReadmeProviderBlocks(t *testing.T) {
	blocks := readmeBlocks(t)
	var keys bytes.Buffer
	if err := server.Keygen(&keys, "", false); err != nil {
		t.Fatal(err)
	}
	global, err := server.ParseEnvFile(&keys)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range readmePresets {
		t.Run(name, func(t *testing.T) {
			b, ok := blocks["provider-"+name]
			if !ok {
				t.Fatalf("README has no block marked <!-- tested: provider-%s -->", name)
			}
			if b.lang != "sh" {
				t.Fatalf("block provider-%s is ```%s, want ```sh", name, b.lang)
			}
			vars, err := server.ParseEnvFile(strings.NewReader(b.code))
			if err != nil {
				t.Fatalf("the block does not parse as environment lines: %v", err)
			}
			unsetForTest(t, edgeauthVars()...)
			for _, v := range global {
				t.Setenv(v.Name, v.Value)
			}
			t.Setenv("EDGEAUTH_PUBLIC_URL", "https://auth.example.com")
			var providers string
			for _, v := range vars {
				value := v.Value
				switch {
				case strings.HasSuffix(v.Name, "_PRIVATE_KEY"):
					value = appleKeyPEM(t)
				case value == "..." || strings.Contains(value, "…"):
					value = "readme-secret-" + strings.ToLower(v.Name)
				}
				if v.Name == "EDGEAUTH_PROVIDERS" {
					providers = value
				}
				t.Setenv(v.Name, value)
			}
			if providers != name && !(name == "twitter" && providers == "x") {
				t.Fatalf("the block sets EDGEAUTH_PROVIDERS=%q, want %q", providers, name)
			}
			cfg, err := server.LoadConfig(func(string) string { return "" }, nil)
			if err != nil {
				t.Fatalf("the block's configuration is refused:\n%v", err)
			}
			if _, err := server.New(cfg, server.Options{}); err != nil {
				t.Fatalf("the block's provider is refused:\n%v", err)
			}
		})
	}
}

// edgeauthVars lists the EDGEAUTH_ variables of the test's environment, so
// that a developer's own settings do not leak into a block.
func edgeauthVars() []string {
	var names []string
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "EDGEAUTH_") {
			names = append(names, name)
		}
	}
	return names
}

// appleKeyPEM is a fresh P-256 key in the PKCS#8 PEM form of Apple's .p8
// files.
func appleKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}
