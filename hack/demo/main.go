// Command demo writes hack/demo/demo.ndjson: the demo data set `make run`
// injects into a fresh edgecore (namespaces, a node, pods with real-looking
// specs and statuses, configmaps, secrets, services, endpoints, a CRD and
// objects of its kind). Some messages carry no TypeMeta, as cloud informers
// send them; edgecore resolves their kind from the restype.
//
//	go run ./hack/demo [-o hack/demo/demo.ndjson]
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"time"
)

type obj = map[string]interface{}
type list = []interface{}

// base is a fixed time so the file is reproducible.
var base = time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC)

func ts(d time.Duration) string { return base.Add(d).Format(time.RFC3339) }

type writer struct {
	w  *bufio.Writer
	n  int
	rv int
}

func (w *writer) msg(op, resource string, content obj) {
	w.n++
	w.rv += 7
	if md, ok := content["metadata"].(obj); ok {
		md["resourceVersion"] = fmt.Sprint(w.rv)
		if _, ok := md["uid"]; !ok {
			md["uid"] = uid(w.n)
		}
	}
	m := obj{
		"header":  obj{"msg_id": fmt.Sprintf("demo-%04d", w.n), "timestamp": base.UnixMilli() + int64(w.n), "resourceversion": fmt.Sprint(w.rv)},
		"route":   obj{"source": "edgecontroller", "group": "resource", "operation": op, "resource": resource},
		"content": content,
	}
	b, err := json.Marshal(m)
	if err != nil {
		log.Fatal(err)
	}
	w.w.Write(b)
	w.w.WriteByte('\n')
}

func uid(n int) string {
	return fmt.Sprintf("6f1c%04x-8d2e-4b7a-9c3f-%012x", n, 0x5e0000000000+n*7919)
}

func meta(name, ns string, labels map[string]string, created time.Duration) obj {
	md := obj{"name": name, "creationTimestamp": ts(created)}
	if ns != "" {
		md["namespace"] = ns
	}
	if len(labels) > 0 {
		l := obj{}
		for k, v := range labels {
			l[k] = v
		}
		md["labels"] = l
	}
	return md
}

func typed(apiVersion, kind string, o obj) obj {
	o["apiVersion"] = apiVersion
	o["kind"] = kind
	return o
}

func main() {
	out := flag.String("o", "hack/demo/demo.ndjson", "output file")
	flag.Parse()
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := &writer{w: bufio.NewWriter(f)}
	writeNamespaces(w)
	w.msg("insert", "null/node/edge-1", typed("v1", "Node", node()))
	pods := demoPods()
	writePods(w, pods)
	writeConfigMaps(w)
	writeSecrets(w)
	writeServices(w, pods)
	writeDevices(w)
	if err := w.w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "wrote %d messages to %s\n", w.n, *out)
}

func writeNamespaces(w *writer) {
	for i, ns := range []string{"default", "kube-system", "demo"} {
		w.msg("insert", "null/namespace/"+ns, typed("v1", "Namespace", obj{
			"metadata": meta(ns, "", map[string]string{"kubernetes.io/metadata.name": ns}, time.Duration(i)*time.Second),
			"spec":     obj{"finalizers": list{"kubernetes"}},
			"status":   obj{"phase": "Active"},
		}))
	}
}

// podSpec is one demo pod; services select pods by app.
type podSpec struct {
	ns, name, app, image string
	port                 int
	restarts             int
	phase                string
}

func demoPods() []podSpec {
	return []podSpec{
		{"default", "nginx-7c5ddbdf54-2xkqm", "nginx", "nginx:1.27.2", 80, 0, "Running"},
		{"default", "nginx-7c5ddbdf54-9vfzt", "nginx", "nginx:1.27.2", 80, 1, "Running"},
		{"default", "redis-0", "redis", "redis:7.4.1", 6379, 0, "Running"},
		{"kube-system", "coredns-76f75df574-h8w4d", "coredns", "registry.k8s.io/coredns/coredns:v1.11.3", 53, 0, "Running"},
		{"kube-system", "kube-proxy-edge-1", "kube-proxy", "registry.k8s.io/kube-proxy:v1.31.2", 10249, 2, "Running"},
		{"kube-system", "edgemesh-agent-6q2zr", "edgemesh-agent", "kubeedge/edgemesh-agent:v1.17.0", 40001, 0, "Running"},
		{"demo", "sensor-reader-5b9f6c8d4-kx7pq", "sensor-reader", "ghcr.io/example/sensor-reader:0.4.2", 8080, 3, "Running"},
		{"demo", "sensor-reader-5b9f6c8d4-zt2lm", "sensor-reader", "ghcr.io/example/sensor-reader:0.4.2", 8080, 0, "Running"},
		{"demo", "mqtt-broker-0", "mqtt-broker", "eclipse-mosquitto:2.0.20", 1883, 0, "Running"},
		{"demo", "data-sync-28871040-wq6nd", "data-sync", "ghcr.io/example/data-sync:1.2.0", 9090, 0, "Pending"},
	}
}

func writePods(w *writer, pods []podSpec) {
	for i, p := range pods {
		pod := podObject(p.ns, p.name, p.app, p.image, p.port, p.restarts, p.phase, i)
		if i%3 == 1 {
			// As a cloud informer sends it: no TypeMeta.
			w.msg("insert", p.ns+"/pod/"+p.name, pod)
		} else {
			w.msg("insert", p.ns+"/pod/"+p.name, typed("v1", "Pod", pod))
		}
	}
}

func writeConfigMaps(w *writer) {
	cms := []struct{ ns, name string }{{"default", "nginx-conf"}, {"kube-system", "coredns"}, {"demo", "sensor-config"}, {"demo", "kube-root-ca.crt"}}
	for i, c := range cms {
		data := obj{"config.yaml": fmt.Sprintf("interval: %ds\nlevel: info\n", 10*(i+1))}
		if c.name == "coredns" {
			data = obj{"Corefile": ".:53 {\n    errors\n    health\n    kubernetes cluster.local in-addr.arpa ip6.arpa {\n       pods insecure\n       fallthrough in-addr.arpa ip6.arpa\n    }\n    forward . /etc/resolv.conf\n    cache 30\n    loop\n    reload\n}\n"}
		}
		cm := obj{"metadata": meta(c.name, c.ns, nil, time.Minute), "data": data}
		if i%2 == 0 {
			cm = typed("v1", "ConfigMap", cm)
		}
		w.msg("insert", c.ns+"/configmap/"+c.name, cm)
	}
}

func writeSecrets(w *writer) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	w.msg("insert", "demo/secret/mqtt-credentials", typed("v1", "Secret", obj{
		"metadata": meta("mqtt-credentials", "demo", map[string]string{"app": "mqtt-broker"}, time.Minute),
		"type":     "Opaque",
		"data":     obj{"username": b64("sensor"), "password": b64("s3nsor-pa55")},
	}))
	w.msg("insert", "default/secret/registry-auth", obj{
		"metadata": meta("registry-auth", "default", nil, time.Minute),
		"type":     "kubernetes.io/dockerconfigjson",
		"data":     obj{".dockerconfigjson": b64(`{"auths":{"ghcr.io":{"auth":"ZXhhbXBsZTp0b2tlbg=="}}}`)},
	})
	w.msg("insert", "kube-system/secret/coredns-token", typed("v1", "Secret", obj{
		"metadata": func() obj {
			m := meta("coredns-token", "kube-system", nil, time.Minute)
			m["annotations"] = obj{"kubernetes.io/service-account.name": "coredns", "kubernetes.io/service-account.uid": uid(900)}
			return m
		}(),
		"type": "kubernetes.io/service-account-token",
		"data": obj{"ca.crt": b64("-----BEGIN CERTIFICATE-----\nMIIBdemo\n-----END CERTIFICATE-----\n"), "namespace": b64("kube-system"), "token": b64("eyJhbGciOiJSUzI1NiJ9.demo.signature")},
	}))
}

func writeServices(w *writer, pods []podSpec) {
	svcs := []struct {
		ns, name, app, ip string
		port              int
		proto             string
	}{
		{"default", "kubernetes", "", "10.96.0.1", 443, "TCP"},
		{"default", "nginx", "nginx", "10.96.12.40", 80, "TCP"},
		{"kube-system", "kube-dns", "coredns", "10.96.0.10", 53, "UDP"},
		{"demo", "mqtt-broker", "mqtt-broker", "10.96.88.17", 1883, "TCP"},
	}
	for i, s := range svcs {
		spec := obj{
			"type": "ClusterIP", "clusterIP": s.ip, "clusterIPs": list{s.ip},
			"ports":           list{obj{"name": "main", "port": s.port, "protocol": s.proto, "targetPort": s.port}},
			"sessionAffinity": "None", "ipFamilies": list{"IPv4"}, "ipFamilyPolicy": "SingleStack",
		}
		labels := map[string]string{}
		if s.app != "" {
			spec["selector"] = obj{"app": s.app}
			labels["app"] = s.app
		}
		svc := obj{"metadata": meta(s.name, s.ns, labels, time.Duration(i)*time.Minute), "spec": spec, "status": obj{"loadBalancer": obj{}}}
		if i != 1 {
			svc = typed("v1", "Service", svc)
		}
		w.msg("insert", s.ns+"/service/"+s.name, svc)

		var addrs list
		for j, p := range pods {
			if s.app != "" && p.app == s.app && p.phase == "Running" {
				addrs = append(addrs, obj{"ip": podIP(j), "nodeName": "edge-1", "targetRef": obj{"kind": "Pod", "namespace": p.ns, "name": p.name}})
			}
		}
		if s.name == "kubernetes" {
			addrs = list{obj{"ip": "192.168.10.2"}}
		}
		w.msg("insert", s.ns+"/endpoints/"+s.name, typed("v1", "Endpoints", obj{
			"metadata": meta(s.name, s.ns, labels, time.Duration(i)*time.Minute),
			"subsets":  list{obj{"addresses": addrs, "ports": list{obj{"name": "main", "port": s.port, "protocol": s.proto}}}},
		}))
	}
}

func writeDevices(w *writer) {
	w.msg("insert", "null/customresourcedefinition/devices.devices.kubeedge.io", typed("apiextensions.k8s.io/v1", "CustomResourceDefinition", obj{
		"metadata": meta("devices.devices.kubeedge.io", "", nil, 0),
		"spec": obj{
			"group": "devices.kubeedge.io",
			"names": obj{"kind": "Device", "listKind": "DeviceList", "plural": "devices", "singular": "device", "shortNames": list{"dev"}},
			"scope": "Namespaced",
			"versions": list{obj{
				"name": "v1beta1", "served": true, "storage": true,
				"schema": obj{"openAPIV3Schema": deviceSchema()},
				"additionalPrinterColumns": list{
					obj{"name": "PROTOCOL", "type": "string", "jsonPath": ".spec.protocol.protocolName"},
					obj{"name": "NODE", "type": "string", "jsonPath": ".spec.nodeName"},
					obj{"name": "AGE", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
				},
			}},
		},
		"status": obj{"acceptedNames": obj{"kind": "Device", "plural": "devices"}, "storedVersions": list{"v1beta1"}},
	}))
	devices := []struct{ name, proto, model string }{
		{"thermometer-01", "modbus", "temperature-sensor"},
		{"thermometer-02", "modbus", "temperature-sensor"},
		{"camera-gate", "onvif", "ip-camera"},
		{"plc-line-a", "opcua", "plc"},
	}
	for i, d := range devices {
		dev := obj{
			"metadata": meta(d.name, "demo", map[string]string{"model": d.model}, time.Duration(i)*time.Hour),
			"spec": obj{
				"deviceModelRef": obj{"name": d.model},
				"nodeName":       "edge-1",
				"protocol":       obj{"protocolName": d.proto},
			},
			"status": obj{"twins": list{obj{"propertyName": "status", "reported": obj{"value": "online"}}}},
		}
		if i%2 == 0 {
			dev = typed("devices.kubeedge.io/v1beta1", "Device", dev)
		}
		w.msg("insert", "demo/device/"+d.name, dev)
	}
}

// deviceSchema is the Device CRD's structural schema, with the field docs
// kubectl explain prints.
func deviceSchema() obj {
	str := func(desc string) obj { return obj{"type": "string", "description": desc} }
	return obj{
		"type":        "object",
		"description": "Device is a physical device (sensor, camera, PLC) attached to an edge node.",
		"properties": obj{
			"apiVersion": obj{"type": "string"},
			"kind":       obj{"type": "string"},
			"metadata":   obj{"type": "object"},
			"spec": obj{
				"type":        "object",
				"description": "DeviceSpec is how the device is reached and which model it is.",
				"properties": obj{
					"deviceModelRef": obj{"type": "object", "description": "DeviceModelRef names the DeviceModel this device is an instance of.",
						"properties": obj{"name": str("Name of the DeviceModel.")}},
					"nodeName": str("NodeName is the edge node the device is attached to."),
					"protocol": obj{"type": "object", "description": "Protocol is how the node talks to the device.",
						"properties": obj{"protocolName": str("ProtocolName is the protocol's name: modbus, onvif, opcua, …")}},
				},
			},
			"status": obj{
				"type":        "object",
				"description": "DeviceStatus is what the device last reported.",
				"properties": obj{
					"twins": obj{"type": "array", "description": "Twins are the device's properties as desired and reported.",
						"items": obj{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
				},
			},
		},
	}
}

func podIP(i int) string { return fmt.Sprintf("10.244.1.%d", 10+i) }

func podObject(ns, name, app, image string, port, restarts int, phase string, i int) obj {
	created := time.Duration(i) * 10 * time.Minute
	started := ts(created + 8*time.Second)
	ready := phase == "Running"
	status := func(b bool) string {
		if b {
			return "True"
		}
		return "False"
	}
	cs := obj{
		"name": app, "image": image, "imageID": "docker-pullable://" + image + "@sha256:4c0a8f1d2e7b6a5c3d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c",
		"containerID": fmt.Sprintf("containerd://%064x", 0xabcdef*(i+1)),
		"ready":       ready, "started": ready, "restartCount": restarts,
	}
	if ready {
		cs["state"] = obj{"running": obj{"startedAt": started}}
	} else {
		cs["state"] = obj{"waiting": obj{"reason": "ContainerCreating"}}
	}
	if restarts > 0 {
		cs["lastState"] = obj{"terminated": obj{"exitCode": 137, "reason": "OOMKilled", "startedAt": ts(created), "finishedAt": ts(created + 5*time.Second)}}
	}
	md := meta(name, ns, map[string]string{"app": app, "pod-template-hash": "7c5ddbdf54"}, created)
	owner := obj{"apiVersion": "apps/v1", "kind": "ReplicaSet", "uid": uid(500 + i), "controller": true, "blockOwnerDeletion": true}
	if j := strings.LastIndexByte(name, '-'); j > 0 && len(name)-j == 2 {
		owner["kind"], owner["name"] = "StatefulSet", name[:j] // redis-0
	} else if j > 0 {
		md["generateName"] = name[:j+1]
		owner["name"] = name[:j]
		if strings.HasPrefix(name, "kube-proxy") || strings.HasPrefix(name, "edgemesh") {
			owner["kind"] = "DaemonSet"
		}
	}
	md["ownerReferences"] = list{owner}
	p := obj{
		"metadata": md,
		"spec": obj{
			"containers": list{obj{
				"name": app, "image": image, "imagePullPolicy": "IfNotPresent",
				"ports":     list{obj{"containerPort": port, "name": "main", "protocol": "TCP"}},
				"env":       list{obj{"name": "POD_NAME", "valueFrom": obj{"fieldRef": obj{"apiVersion": "v1", "fieldPath": "metadata.name"}}}, obj{"name": "LOG_LEVEL", "value": "info"}},
				"resources": obj{"requests": obj{"cpu": "100m", "memory": "64Mi"}, "limits": obj{"memory": "256Mi"}},
				"readinessProbe": obj{"tcpSocket": obj{"port": port}, "initialDelaySeconds": 5, "periodSeconds": 10, "timeoutSeconds": 1,
					"successThreshold": 1, "failureThreshold": 3},
				"volumeMounts":             list{obj{"name": "kube-api-access", "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true}},
				"terminationMessagePath":   "/dev/termination-log",
				"terminationMessagePolicy": "File",
			}},
			"volumes": list{obj{"name": "kube-api-access", "projected": obj{"defaultMode": 420, "sources": list{
				obj{"serviceAccountToken": obj{"expirationSeconds": 3607, "path": "token"}},
				obj{"configMap": obj{"name": "kube-root-ca.crt", "items": list{obj{"key": "ca.crt", "path": "ca.crt"}}}},
			}}}},
			"nodeName": "edge-1", "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
			"serviceAccountName": "default", "serviceAccount": "default", "terminationGracePeriodSeconds": 30,
			"securityContext": obj{}, "enableServiceLinks": true, "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
			"tolerations": list{
				obj{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
				obj{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
			},
		},
		"status": obj{
			"phase": phase, "hostIP": "192.168.10.21", "hostIPs": list{obj{"ip": "192.168.10.21"}}, "qosClass": "Burstable",
			"startTime": ts(created + time.Second),
			"conditions": list{
				obj{"type": "PodReadyToStartContainers", "status": status(ready), "lastTransitionTime": started},
				obj{"type": "Initialized", "status": "True", "lastTransitionTime": ts(created + time.Second)},
				obj{"type": "Ready", "status": status(ready), "lastTransitionTime": started},
				obj{"type": "ContainersReady", "status": status(ready), "lastTransitionTime": started},
				obj{"type": "PodScheduled", "status": "True", "lastTransitionTime": ts(created)},
			},
			"containerStatuses": list{cs},
		},
	}
	if ready {
		st := p["status"].(obj)
		st["podIP"] = podIP(i)
		st["podIPs"] = list{obj{"ip": podIP(i)}}
	}
	return p
}

func node() obj {
	cond := func(typ, status, reason, msg string) obj {
		return obj{"type": typ, "status": status, "reason": reason, "message": msg,
			"lastHeartbeatTime": ts(48 * time.Hour), "lastTransitionTime": ts(0)}
	}
	return obj{
		"metadata": func() obj {
			m := meta("edge-1", "", map[string]string{
				"kubernetes.io/hostname": "edge-1", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
				"node-role.kubernetes.io/edge": "", "node-role.kubernetes.io/agent": "",
			}, 0)
			m["annotations"] = obj{"node.alpha.kubernetes.io/ttl": "0"}
			return m
		}(),
		"spec": obj{"podCIDR": "10.244.1.0/24", "podCIDRs": list{"10.244.1.0/24"},
			"taints": list{obj{"key": "node-role.kubernetes.io/edge", "effect": "NoSchedule"}}},
		"status": obj{
			"capacity":    obj{"cpu": "2", "memory": "4025364Ki", "pods": "110", "ephemeral-storage": "30832548Ki"},
			"allocatable": obj{"cpu": "2", "memory": "3922964Ki", "pods": "110", "ephemeral-storage": "28415217579"},
			"conditions": list{
				cond("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
				cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
				cond("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
				cond("Ready", "True", "EdgeReady", "edge is posting ready status"),
			},
			"addresses":       list{obj{"type": "InternalIP", "address": "192.168.10.21"}, obj{"type": "Hostname", "address": "edge-1"}},
			"daemonEndpoints": obj{"kubeletEndpoint": obj{"Port": 10350}},
			"nodeInfo": obj{
				"machineID": "3f1b0c9d2e8a4f6b8c7d5e4f3a2b1c0d", "systemUUID": "9d2e8a4f-3f1b-0c6b-8c7d-5e4f3a2b1c0d", "bootID": "b7c6d5e4-f3a2-4b1c-8d9e-0f1a2b3c4d5e",
				"kernelVersion": "6.8.0-45-generic", "osImage": "Ubuntu 24.04.1 LTS", "containerRuntimeVersion": "containerd://1.7.22",
				"kubeletVersion": "v1.31.2-kubeedge-v1.20.0", "kubeProxyVersion": "", "operatingSystem": "linux", "architecture": "amd64",
			},
			"images": list{obj{"names": list{"nginx:1.27.2"}, "sizeBytes": 72955450}, obj{"names": list{"redis:7.4.1"}, "sizeBytes": 45184621}},
		},
	}
}
