package handlers

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Continue tokens have etcd3's shape (k8s.io/apiserver/pkg/storage/continue.go):
// base64url (unpadded) JSON {"v":"meta.k8s.io/v1","rv":<revision>,"start":"<ns>/<name>"}.
// "start" is the key the next page continues after; rv the revision every
// page of the list is read at. Clients treat the token as opaque.

const continueVersion = "meta.k8s.io/v1"

// latestRV in a token means "continue at the latest revision": the token
// handed out with a 410 for an expired one (as kube-apiserver does).
const latestRV = -1

// Errors of DecodeContinue, worded as kube-apiserver's.
var (
	errContinueInvalid       = errors.New("continue key is not valid")
	errContinueStartRV       = errors.New("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
	errContinueEmptyStart    = errors.New("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)")
	errContinueUnrecognized  = errors.New("continue key is not valid: server does not recognize this encoded version")
	errContinueMalformedKey  = errors.New("continue key is not valid: start key is not namespace/name")
	maxContinueTokenLength   = 4096
	errContinueTokenTooLarge = fmt.Errorf("%w: token longer than %d bytes", errContinueInvalid, maxContinueTokenLength)
)

type continueToken struct {
	APIVersion      string `json:"v"`
	ResourceVersion int64  `json:"rv"`
	StartKey        string `json:"start"`
}

// EncodeContinue returns the token for the page after start, read at rv.
func EncodeContinue(rv int64, start string) string {
	b, _ := json.Marshal(continueToken{APIVersion: continueVersion, ResourceVersion: rv, StartKey: start})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeContinue parses a token: the start key ("namespace/name", "/name"
// for cluster-scoped) and the revision (latestRV for "the latest").
func DecodeContinue(token string) (start string, rv int64, err error) {
	if len(token) > maxContinueTokenLength {
		return "", 0, errContinueTokenTooLarge
	}
	data, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", 0, fmt.Errorf("%w: %v", errContinueInvalid, err)
	}
	var c continueToken
	if err := json.Unmarshal(data, &c); err != nil {
		return "", 0, fmt.Errorf("%w: %v", errContinueInvalid, err)
	}
	if c.APIVersion != continueVersion {
		return "", 0, fmt.Errorf("%w %v", errContinueUnrecognized, c.APIVersion)
	}
	if c.ResourceVersion == 0 || c.ResourceVersion < latestRV {
		return "", 0, errContinueStartRV
	}
	if c.StartKey == "" {
		return "", 0, errContinueEmptyStart
	}
	// One '/' between a namespace (possibly empty) and a non-empty name.
	i := strings.IndexByte(c.StartKey, '/')
	if i < 0 || i == len(c.StartKey)-1 || strings.IndexByte(c.StartKey[i+1:], '/') >= 0 {
		return "", 0, errContinueMalformedKey
	}
	return c.StartKey, c.ResourceVersion, nil
}
