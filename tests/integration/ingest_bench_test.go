package integration

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// benchPod is a pod of about 4 KB, as in DESIGN §4.
func benchPod(name string, rv int) string {
	var env []string
	for i := 0; i < 24; i++ {
		env = append(env, fmt.Sprintf(`{"name":"ENV_VAR_NUMBER_%02d","value":"some-configuration-value-%02d-abcdefghij"}`, i, i))
	}
	return fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":%q,"namespace":"bench","resourceVersion":"%d","uid":"0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0","labels":{"app":"bench","tier":"backend","pod-template-hash":"5d4f8b7c9"},"annotations":{"kubectl.kubernetes.io/restartedAt":"2025-11-20T08:00:00Z"},"creationTimestamp":"2025-11-20T08:00:00Z","ownerReferences":[{"apiVersion":"apps/v1","kind":"ReplicaSet","name":"bench-5d4f8b7c9","uid":"9f8e7d6c-5b4a-3928-1706-f5e4d3c2b1a0","controller":true,"blockOwnerDeletion":true}]},`+
		`"spec":{"nodeName":"edge-1","restartPolicy":"Always","schedulerName":"default-scheduler","serviceAccountName":"default","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst",`+
		`"containers":[{"name":"app","image":"ghcr.io/example/bench-app:1.2.3","imagePullPolicy":"IfNotPresent","ports":[{"containerPort":8080,"name":"http","protocol":"TCP"}],"env":[%s],`+
		`"resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"memory":"256Mi"}},"readinessProbe":{"httpGet":{"path":"/healthz","port":8080,"scheme":"HTTP"},"periodSeconds":10,"timeoutSeconds":1,"successThreshold":1,"failureThreshold":3},`+
		`"volumeMounts":[{"name":"kube-api-access","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount","readOnly":true}],"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File"}],`+
		`"volumes":[{"name":"kube-api-access","projected":{"defaultMode":420,"sources":[{"serviceAccountToken":{"expirationSeconds":3607,"path":"token"}},{"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}}]}}],`+
		`"tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}]},`+
		`"status":{"phase":"Running","hostIP":"192.168.10.21","podIP":"10.244.1.17","podIPs":[{"ip":"10.244.1.17"}],"qosClass":"Burstable","startTime":"2025-11-20T08:00:01Z",`+
		`"conditions":[{"type":"Initialized","status":"True","lastTransitionTime":"2025-11-20T08:00:01Z"},{"type":"Ready","status":"True","lastTransitionTime":"2025-11-20T08:00:09Z"},{"type":"ContainersReady","status":"True","lastTransitionTime":"2025-11-20T08:00:09Z"},{"type":"PodScheduled","status":"True","lastTransitionTime":"2025-11-20T08:00:00Z"}],`+
		`"containerStatuses":[{"name":"app","ready":true,"started":true,"restartCount":0,"image":"ghcr.io/example/bench-app:1.2.3","imageID":"ghcr.io/example/bench-app@sha256:4c0a8f1d2e7b6a5c3d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c","containerID":"containerd://0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef","state":{"running":{"startedAt":"2025-11-20T08:00:08Z"}}}]}}`,
		name, rv, strings.Join(env, ","))
}

func benchLine(i int) []byte {
	name := fmt.Sprintf("bench-%05d", i%5000)
	rv := i + 1
	return []byte(fmt.Sprintf(`{"header":{"msg_id":"b-%d","resourceversion":"%d"},"route":{"source":"edgecontroller","group":"resource","operation":"update","resource":"bench/pod/%s"},"content":%s}`,
		i, rv, name, benchPod(name, rv)))
}

// BenchmarkIngest measures messages/s through the real socket with durable
// acknowledgements, with at most `batch` messages outstanding.
func BenchmarkIngest(b *testing.B) {
	if n := len(benchLine(0)); n < 3500 || n > 5000 {
		b.Fatalf("bench pod message is %d bytes, want about 4 KB", n)
	}
	for _, depth := range []int{1, 100} {
		b.Run("batch="+strconv.Itoa(depth), func(b *testing.B) {
			e := StartEdgecore(b, Options{})
			c, err := e.Dial()
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			lines := make([][]byte, b.N)
			for i := range lines {
				lines[i] = benchLine(i)
			}
			b.SetBytes(int64(len(lines[0])))
			sem := make(chan struct{}, depth)
			var wg sync.WaitGroup
			wg.Add(1)
			var recvErr error
			b.ResetTimer()
			start := time.Now()
			go func() {
				defer wg.Done()
				for i := 0; i < b.N; i++ {
					r, err := c.Recv()
					if err != nil {
						recvErr = err
						return
					}
					if !r.OK() {
						recvErr = fmt.Errorf("error reply: %s", r.Raw)
						return
					}
					<-sem
				}
			}()
			for i := 0; i < b.N; i++ {
				sem <- struct{}{}
				if len(sem) == depth || i == b.N-1 {
					err = c.Send(lines[i])
				} else {
					err = c.SendBuffered(lines[i])
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			if recvErr != nil {
				b.Fatal(recvErr)
			}
			b.ReportMetric(float64(b.N)/el.Seconds(), "msg/s")
			e.Stop()
		})
	}
}
