package uplink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/kubeedge/beehive/pkg/core/model"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/klog/v2"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// WriteRequest is one write lwserver forwards: create (POST), update (PUT),
// patch (PATCH), delete and deletecollection (DELETE), on a resource or
// its status subresource.
type WriteRequest struct {
	Method string
	// Path is the API path (the same on the cloud), RawQuery its query.
	Path, RawQuery string
	// ContentType of Body (JSON for create/update/delete; the patch type
	// for a patch). Body holds resourceVersions in edge terms.
	ContentType string
	Body        []byte
	// BearerToken is the caller's own token, forwarded as is; "" forwards
	// with the node's identity (local x509 users).
	BearerToken string
	// GVR, Namespace and Name (empty for create and deletecollection) of
	// the object; Subresource is "" or "status".
	GVR             GVR
	Namespace, Name string
	Subresource     string
}

// WriteResult is the answer to a forwarded write: the cloud's code and a
// JSON body whose objects carry edge resourceVersions (or the cloud's
// Status for a failed write).
type WriteResult struct {
	Code int
	Body []byte
}

// ErrOffline: the server checker takes the cloud as unreachable.
var ErrOffline = errors.New("the cloud's kube-apiserver is not reachable")

// maxWrittenStreams bounds the by-name streams started for written objects.
const maxWrittenStreams = 1000

// Forward sends req to the kube-apiserver and, when it succeeds, persists
// the result through metaManager before returning it with edge
// resourceVersions (docs/uplink.md, writes). A precondition on an edge
// resourceVersion that is not the object's current one is a 409 here.
func (u *Uplink) Forward(ctx context.Context, req WriteRequest) (WriteResult, error) {
	if !u.checker.Online() {
		return WriteResult{}, ErrOffline
	}
	s := u.source
	select {
	case <-s.trackerOK:
	case <-ctx.Done():
		return WriteResult{}, ctx.Err()
	}
	body, err := s.toCloudPreconditions(ctx, req)
	if err != nil {
		return WriteResult{}, err
	}
	code, out, err := u.send(ctx, req, body)
	if err != nil {
		u.checker.Report(err)
		return WriteResult{}, fmt.Errorf("%w: %v", ErrOffline, err)
	}
	u.checker.Report(nil)
	if code >= 300 || isDryRun(req.RawQuery) {
		return WriteResult{Code: code, Body: out}, nil
	}
	edgeBody, err := s.persist(ctx, req, out)
	if err != nil {
		return WriteResult{}, err
	}
	return WriteResult{Code: code, Body: edgeBody}, nil
}

func isDryRun(rawQuery string) bool { return strings.Contains(rawQuery, "dryRun=") }

// send performs the HTTP request upstream, as the caller (bearer token) or
// as the node.
func (u *Uplink) send(ctx context.Context, req WriteRequest, body []byte) (int, []byte, error) {
	url := strings.TrimSuffix(u.rc.Host, "/") + req.Path
	if req.RawQuery != "" {
		url += "?" + req.RawQuery
	}
	hr, err := http.NewRequestWithContext(ctx, req.Method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	hr.Header.Set("Accept", "application/json")
	if req.ContentType != "" {
		hr.Header.Set("Content-Type", req.ContentType)
	}
	client := u.nodeClient
	if req.BearerToken != "" {
		client = u.tokenClient
		hr.Header.Set("Authorization", "Bearer "+req.BearerToken)
	}
	resp, err := client.Do(hr)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, out, nil
}

// toCloudPreconditions replaces the edge resourceVersion a body carries as
// a precondition (an update's metadata.resourceVersion, a merge or
// strategic patch's, a JSON patch's test of /metadata/resourceVersion, a
// delete's preconditions.resourceVersion) by the object's cloud one, after
// checking it is the object's current edge revision (409 otherwise).
func (s *KubeSource) toCloudPreconditions(ctx context.Context, req WriteRequest) ([]byte, error) {
	if len(req.Body) == 0 || req.Name == "" || strings.HasPrefix(req.ContentType, "application/apply-patch") {
		return req.Body, nil
	}
	translate := func(edgeRV string) (string, error) { return s.cloudPrecondition(ctx, req, edgeRV) }
	if req.ContentType == "application/json-patch+json" {
		var ops []map[string]interface{}
		if err := json.Unmarshal(req.Body, &ops); err != nil {
			return req.Body, nil // the cloud says what is wrong with it
		}
		changed := false
		for _, op := range ops {
			if op["path"] == "/metadata/resourceVersion" && op["op"] == "test" {
				v, _ := op["value"].(string)
				c, err := translate(v)
				if err != nil {
					return nil, err
				}
				op["value"], changed = c, true
			}
		}
		if !changed {
			return req.Body, nil
		}
		return json.Marshal(ops)
	}
	var obj map[string]interface{}
	if err := json.Unmarshal(req.Body, &obj); err != nil {
		return req.Body, nil
	}
	path := []string{"metadata", "resourceVersion"}
	if req.Method == http.MethodDelete {
		path = []string{"preconditions", "resourceVersion"}
	}
	v, found, _ := unstructured.NestedString(obj, path...)
	if !found || v == "" {
		return req.Body, nil
	}
	c, err := translate(v)
	if err != nil {
		return nil, err
	}
	if err := unstructured.SetNestedField(obj, c, path...); err != nil {
		return nil, err
	}
	return json.Marshal(obj)
}

// cloudPrecondition checks edgeRV against the stored object and returns the
// object's cloud resourceVersion.
func (s *KubeSource) cloudPrecondition(ctx context.Context, req WriteRequest, edgeRV string) (string, error) {
	gr := req.GVR.GroupResource()
	st, err := s.store.Get(ctx, metaclient.Key{GVR: req.GVR, Namespace: req.Namespace, Name: req.Name})
	if errors.Is(err, metaclient.ErrNotFound) {
		return "", apierrors.NewNotFound(gr, req.Name)
	}
	if err != nil {
		return "", apierrors.NewInternalError(err)
	}
	if n, perr := strconv.ParseInt(edgeRV, 10, 64); perr != nil || n != st.Revision {
		return "", apierrors.NewConflict(gr, req.Name,
			errors.New("the object has been modified; please apply your changes to the latest version and try again"))
	}
	return s.tracker.cloudRV(req.GVR, req.Namespace, req.Name, st.CloudRV), nil
}

// persist hands the cloud's answer to metaManager, waits until it is
// applied, and returns the body in edge terms: the stored object (edge
// resourceVersion) for an object that exists, the cloud's answer with the
// store's revision for a deletion.
func (s *KubeSource) persist(ctx context.Context, req WriteRequest, out []byte) ([]byte, error) {
	var u unstructured.Unstructured
	if err := json.Unmarshal(out, &u.Object); err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("cloud answer: %w", err))
	}
	if u.GetKind() == "Status" {
		if req.Method == http.MethodDelete && req.Name != "" {
			return out, s.wait(ctx, func(done func(model.Message)) { s.tracker.deleted(req.GVR, req.Namespace, req.Name, "", done) })
		}
		return out, nil
	}
	if u.IsList() {
		// deletecollection: the deleted objects.
		items, _ := u.ToList()
		for i := range items.Items {
			it := &items.Items[i]
			if err := s.persistOne(ctx, req, it); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	if err := s.persistOne(ctx, req, &u); err != nil {
		return nil, err
	}
	st, err := s.store.Get(ctx, metaclient.Key{GVR: req.GVR, Namespace: u.GetNamespace(), Name: u.GetName()})
	if errors.Is(err, metaclient.ErrNotFound) {
		u.SetResourceVersion(strconv.FormatInt(s.store.Revision(), 10))
		return json.Marshal(u.Object)
	}
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return st.Data, nil
}

// persistOne writes (or, for a finished deletion, deletes) one object the
// cloud answered with, and keeps a written object current with a by-name
// stream when no other stream delivers it.
func (s *KubeSource) persistOne(ctx context.Context, req WriteRequest, u *unstructured.Unstructured) error {
	gone := req.Method == http.MethodDelete && (u.GetDeletionTimestamp() == nil || len(u.GetFinalizers()) == 0 && u.GetDeletionGracePeriodSeconds() == nil)
	if gone {
		return s.wait(ctx, func(done func(model.Message)) {
			s.tracker.deleted(req.GVR, u.GetNamespace(), u.GetName(), u.GetResourceVersion(), done)
		})
	}
	if err := s.wait(ctx, func(done func(model.Message)) { s.tracker.written(req.GVR, u, done) }); err != nil {
		return err
	}
	s.follow(ref{gvr: req.GVR, namespace: u.GetNamespace(), name: u.GetName()})
	return nil
}

// follow starts a by-name stream for a written object no stream delivers.
func (s *KubeSource) follow(r ref) {
	if s.tracker.held(r.gvr, r.namespace, r.name) {
		return
	}
	s.writtenMu.Lock()
	defer s.writtenMu.Unlock()
	if s.written[r] || len(s.written) >= maxWrittenStreams {
		return
	}
	s.written[r] = true
	s.startStream(s.ctx, s.tracker, selection{gvr: r.gvr, namespace: r.namespace, fieldSelector: "metadata.name=" + r.name}, streamHooks{})
}

// wait runs send with a done callback and waits for metaManager's reply.
func (s *KubeSource) wait(ctx context.Context, send func(done func(model.Message))) error {
	ch := make(chan model.Message, 1)
	send(func(r model.Message) { ch <- r })
	select {
	case r := <-ch:
		if r.GetOperation() == model.ResponseErrorOperation {
			klog.Warningf("uplink: persisting a forwarded write: %v", r.GetContent())
			return apierrors.NewInternalError(fmt.Errorf("the cloud accepted the write; storing it on the edge failed: %v", r.GetContent()))
		}
		return nil
	case <-ctx.Done():
		return apierrors.NewTimeoutError("the cloud accepted the write; storing it on the edge did not finish in time", 1)
	}
}
