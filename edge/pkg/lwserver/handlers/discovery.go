package handlers

import (
	"encoding/json"
	"net/http"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	apidiscoveryv2beta1 "k8s.io/api/apidiscovery/v2beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/endpoints/handlers/negotiation"

	"github.com/edgecore/edgecore/edge/pkg/kube"
)

// Discovery is computed from the Mapper on every request: built-ins plus the
// CRDs the store holds right now (cheap: a few hundred entries).

// groupVersions is discovery's view of the mapper: groups in order of first
// appearance (built-ins in kube-apiserver's order, then CRDs), versions in
// preference order, resources per group/version.
type groupVersions struct {
	groups   []string
	versions map[string][]string
	res      map[schema.GroupVersion][]kube.Resource
}

// selfReviews are the create-only review resources lwserver answers itself
// (kubectl auth whoami / can-i / can-i --list); discovery lists them as
// kube-apiserver does, so clients resolve them without a warning.
var selfReviews = []kube.Resource{
	{GVR: schema.GroupVersionResource{Group: "authentication.k8s.io", Version: "v1", Resource: "selfsubjectreviews"}, Kind: "SelfSubjectReview", SingularName: "selfsubjectreview", BuiltIn: true},
	{GVR: schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "selfsubjectaccessreviews"}, Kind: "SelfSubjectAccessReview", SingularName: "selfsubjectaccessreview", BuiltIn: true},
	{GVR: schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "selfsubjectrulesreviews"}, Kind: "SelfSubjectRulesReview", SingularName: "selfsubjectrulesreview", BuiltIn: true},
}

// verbs are the verbs discovery advertises for r: create only for the self
// reviews; reads, and writes while an uplink forwards them.
func (h *Handler) verbs(r kube.Resource) []string {
	for _, sr := range selfReviews {
		if sr.GVR == r.GVR {
			return []string{"create"}
		}
	}
	return r.Verbs(h.writes != nil)
}

func (h *Handler) groupVersions() groupVersions {
	gv := groupVersions{versions: map[string][]string{}, res: map[schema.GroupVersion][]kube.Resource{}}
	for _, r := range append(h.mapper.Resources(), selfReviews...) {
		g, v := r.GVR.Group, r.GVR.Version
		vs, seen := gv.versions[g]
		if !seen {
			gv.groups = append(gv.groups, g)
		}
		if !contains(vs, v) {
			gv.versions[g] = append(vs, v)
		}
		k := schema.GroupVersion{Group: g, Version: v}
		gv.res[k] = append(gv.res[k], r)
	}
	return gv
}

// discoveryRestrictions lets negotiation accept the aggregated discovery
// conversion (as=APIGroupDiscoveryList) besides the plain documents.
type discoveryRestrictions struct{}

func (discoveryRestrictions) AllowsMediaTypeTransform(_, _ string, gvk *schema.GroupVersionKind) bool {
	if gvk == nil {
		return true
	}
	return gvk.Group == apidiscoveryv2.SchemeGroupVersion.Group && gvk.Kind == "APIGroupDiscoveryList" &&
		(gvk.Version == "v2" || gvk.Version == "v2beta1")
}
func (discoveryRestrictions) AllowsServerVersion(string) bool { return false }
func (discoveryRestrictions) AllowsStreamSchema(string) bool  { return false }

// serveDiscovery serves /api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v>.
// It reports false for other paths.
func (h *Handler) serveDiscovery(w http.ResponseWriter, r *http.Request, p string) bool {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	switch {
	case parts[0] == "api" && len(parts) <= 2, parts[0] == "apis" && len(parts) <= 3:
	default:
		return false
	}
	mto, info, err := negotiation.NegotiateOutputMediaType(r, h.codecs, discoveryRestrictions{})
	if err != nil {
		h.WriteError(w, r, err)
		return true
	}
	w.Header().Add("Vary", "Accept")
	gvs := h.groupVersions()

	if mto.Convert != nil { // aggregated discovery
		if len(parts) != 1 {
			h.WriteError(w, r, notAcceptable("aggregated discovery is served on /api and /apis only"))
			return true
		}
		list := h.aggregated(gvs, parts[0] == "api")
		var obj runtime.Object = list
		target := *mto.Convert
		if target.Version == "v2beta1" {
			b, _ := json.Marshal(list)
			beta := &apidiscoveryv2beta1.APIGroupDiscoveryList{}
			if err := json.Unmarshal(b, beta); err != nil {
				h.WriteError(w, r, ErrInternal(err))
				return true
			}
			obj = beta
		}
		data, err := h.EncodeObject(info, target.GroupVersion(), obj)
		if err != nil {
			h.WriteError(w, r, ErrInternal(err))
			return true
		}
		ct := info.MediaType + ";g=" + target.Group + ";v=" + target.Version + ";as=" + target.Kind
		writeRaw(w, http.StatusOK, ct, data)
		return true
	}

	unversioned := schema.GroupVersion{Version: "v1"}
	switch {
	case p == "/api":
		h.writeObject(w, r, http.StatusOK, info, unversioned, &metav1.APIVersions{
			Versions:                   []string{"v1"},
			ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: r.Host}},
		})
	case p == "/api/v1":
		h.writeObject(w, r, http.StatusOK, info, unversioned, h.resourceList(schema.GroupVersion{Version: "v1"}, gvs.res[schema.GroupVersion{Version: "v1"}]))
	case p == "/apis":
		list := &metav1.APIGroupList{Groups: []metav1.APIGroup{}}
		for _, g := range gvs.groups {
			if g != "" {
				list.Groups = append(list.Groups, apiGroup(g, gvs.versions[g]))
			}
		}
		h.writeObject(w, r, http.StatusOK, info, unversioned, list)
	case len(parts) == 2 && parts[0] == "apis":
		vs, ok := gvs.versions[parts[1]]
		if !ok || parts[1] == "" {
			h.WriteError(w, r, errNotFoundPath())
			return true
		}
		g := apiGroup(parts[1], vs)
		h.writeObject(w, r, http.StatusOK, info, unversioned, &g)
	case len(parts) == 3 && parts[0] == "apis":
		gv := schema.GroupVersion{Group: parts[1], Version: parts[2]}
		rs, ok := gvs.res[gv]
		if !ok || gv.Group == "" {
			h.WriteError(w, r, errNotFoundPath())
			return true
		}
		h.writeObject(w, r, http.StatusOK, info, unversioned, h.resourceList(gv, rs))
	default:
		h.WriteError(w, r, errNotFoundPath())
	}
	return true
}

func apiGroup(g string, versions []string) metav1.APIGroup {
	ag := metav1.APIGroup{Name: g}
	for _, v := range versions {
		ag.Versions = append(ag.Versions, metav1.GroupVersionForDiscovery{GroupVersion: g + "/" + v, Version: v})
	}
	if len(ag.Versions) > 0 {
		ag.PreferredVersion = ag.Versions[0]
	}
	return ag
}

func (h *Handler) resourceList(gv schema.GroupVersion, rs []kube.Resource) *metav1.APIResourceList {
	list := &metav1.APIResourceList{GroupVersion: gv.String(), APIResources: []metav1.APIResource{}}
	for _, r := range rs {
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name:         r.GVR.Resource,
			SingularName: r.SingularName,
			Namespaced:   r.Namespaced,
			Kind:         r.Kind,
			Verbs:        h.verbs(r),
			ShortNames:   r.ShortNames,
			Categories:   r.Categories,
		})
	}
	return list
}

// aggregated builds the APIGroupDiscoveryList of /api (core) or /apis.
func (h *Handler) aggregated(gvs groupVersions, core bool) *apidiscoveryv2.APIGroupDiscoveryList {
	list := &apidiscoveryv2.APIGroupDiscoveryList{Items: []apidiscoveryv2.APIGroupDiscovery{}}
	for _, g := range gvs.groups {
		if (g == "") != core {
			continue
		}
		gd := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: g}}
		for _, v := range gvs.versions[g] {
			vd := apidiscoveryv2.APIVersionDiscovery{Version: v, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
			for _, r := range gvs.res[schema.GroupVersion{Group: g, Version: v}] {
				scope := apidiscoveryv2.ScopeCluster
				if r.Namespaced {
					scope = apidiscoveryv2.ScopeNamespace
				}
				vd.Resources = append(vd.Resources, apidiscoveryv2.APIResourceDiscovery{
					Resource:         r.GVR.Resource,
					ResponseKind:     &metav1.GroupVersionKind{Group: g, Version: v, Kind: r.Kind},
					Scope:            scope,
					SingularResource: r.SingularName,
					Verbs:            h.verbs(r),
					ShortNames:       r.ShortNames,
					Categories:       r.Categories,
				})
			}
			gd.Versions = append(gd.Versions, vd)
		}
		list.Items = append(list.Items, gd)
	}
	return list
}
