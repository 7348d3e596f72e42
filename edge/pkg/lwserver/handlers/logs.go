package handlers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/edgecore/edgecore/edge/pkg/metamanager/metaclient"
)

// pods/log from the node itself: the container runtime writes each
// container's output in kubelet's layout,
//
//	<PodLogDir>/<namespace>_<pod>_<uid>/<container>/<restart>.log
//
// one line per record in the CRI format ("<RFC 3339 time> <stream> <P|F>
// <text>", P a partial line continued by the next record), and rotates a
// file by renaming it (<restart>.log.<time>) and starting a new one. The log
// of a container is its current file, as kubelet's; previous=true reads the
// file of the restart before. follow streams what is appended and moves to
// the new file when the current one is rotated.

// DefaultPodLogDir is kubelet's pod log root.
const DefaultPodLogDir = "/var/log/pods"

// logFollowPoll is how often a followed log looks for new lines and for
// rotation when it has reached the end of its file.
const logFollowPoll = 100 * time.Millisecond

var podsGR = schema.GroupResource{Resource: "pods"}

// logOptions are corev1.PodLogOptions as read from the query.
type logOptions struct {
	container  string
	follow     bool
	previous   bool
	timestamps bool
	tailLines  int64 // -1: all
	limitBytes int64 // 0: no limit
	since      time.Time
}

func parseLogOptions(r *http.Request, now time.Time) (logOptions, error) {
	q := r.URL.Query()
	o := logOptions{container: q.Get("container"), tailLines: -1}
	var err error
	flag := func(name string) bool {
		v := q.Get(name)
		b, perr := strconv.ParseBool(v)
		if v != "" && perr != nil && err == nil {
			err = errBadRequest(fmt.Sprintf("invalid %s %q: must be true or false", name, v))
		}
		return b
	}
	o.follow, o.previous, o.timestamps = flag("follow"), flag("previous"), flag("timestamps")
	num := func(name string, min int64) int64 {
		v := q.Get(name)
		if v == "" {
			return -1
		}
		n, perr := strconv.ParseInt(v, 10, 64)
		if (perr != nil || n < min) && err == nil {
			err = errBadRequest(fmt.Sprintf("invalid %s %q: must be an integer >= %d", name, v, min))
		}
		return n
	}
	o.tailLines = num("tailLines", 0)
	if lb := num("limitBytes", 1); lb > 0 {
		o.limitBytes = lb
	}
	if s := num("sinceSeconds", 1); s > 0 {
		o.since = now.Add(-time.Duration(s) * time.Second)
	}
	if v := q.Get("sinceTime"); v != "" {
		if q.Get("sinceSeconds") != "" && err == nil {
			err = errBadRequest("at most one of sinceTime or sinceSeconds may be specified")
		}
		t, perr := time.Parse(time.RFC3339, v)
		if perr != nil && err == nil {
			err = errBadRequest(fmt.Sprintf("invalid sinceTime %q: %v", v, perr))
		}
		o.since = t
	}
	return o, err
}

// podContainers is what a stored pod says about its containers.
type podContainers struct {
	Metadata struct {
		UID string `json:"uid"`
	} `json:"metadata"`
	Spec struct {
		Containers          []corev1.Container          `json:"containers"`
		InitContainers      []corev1.Container          `json:"initContainers"`
		EphemeralContainers []corev1.EphemeralContainer `json:"ephemeralContainers"`
	} `json:"spec"`
}

// containerFor picks the container as kube-apiserver's log REST does: the
// one asked for if the pod has it, else the only one.
func (pc *podContainers) containerFor(pod, asked string) (string, error) {
	names := func(cs []corev1.Container) []string {
		var n []string
		for _, c := range cs {
			n = append(n, c.Name)
		}
		return n
	}
	all := append(names(pc.Spec.Containers), names(pc.Spec.InitContainers)...)
	for _, c := range pc.Spec.EphemeralContainers {
		all = append(all, c.Name)
	}
	if asked == "" {
		if len(pc.Spec.Containers) == 1 {
			return pc.Spec.Containers[0].Name, nil
		}
		msg := fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod, names(pc.Spec.Containers))
		if ic := names(pc.Spec.InitContainers); len(ic) > 0 {
			msg += fmt.Sprintf(" or one of the init containers: %v", ic)
		}
		return "", errBadRequest(msg)
	}
	for _, n := range all {
		if n == asked {
			return asked, nil
		}
	}
	return "", errBadRequest(fmt.Sprintf("container %s is not valid for pod %s", asked, pod))
}

// serveLog answers GET …/pods/<name>/log.
func (h *Handler) serveLog(w http.ResponseWriter, r *http.Request, ns, name string) {
	opts, err := parseLogOptions(r, time.Now())
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	obj, err := h.store.Get(r.Context(), metaclient.Key{GVR: podsGR.WithVersion("v1"), Namespace: ns, Name: name})
	if err != nil {
		h.WriteError(w, r, storeError(err, podsGR, name))
		return
	}
	var pc podContainers
	if err := json.Unmarshal(obj.Data, &pc); err != nil {
		h.WriteError(w, r, ErrInternal(fmt.Errorf("stored pod %s/%s: %w", ns, name, err)))
		return
	}
	container, err := pc.containerFor(name, opts.container)
	if err != nil {
		h.WriteError(w, r, err)
		return
	}
	dir := filepath.Join(h.podLogDir, ns+"_"+name+"_"+pc.Metadata.UID, container)
	path, err := containerLogFile(dir, opts.previous)
	if err != nil {
		h.WriteError(w, r, logFileError(err, container, name, opts.previous, dir))
		return
	}
	f, err := os.Open(path)
	if err != nil {
		h.WriteError(w, r, logFileError(err, container, name, opts.previous, dir))
		return
	}
	defer f.Close()
	hdr := w.Header()
	hdr.Set("Content-Type", "text/plain")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	lw := &logWriter{w: w, opts: opts}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-h.Stopping():
			cancel()
		case <-ctx.Done():
		}
	}()
	_ = streamLog(ctx, f, path, lw) // errors once the body started can only end it
}

// errNoLogFile: the container has no log file (not started, or no previous
// instance).
var errNoLogFile = errors.New("no log file")

// logFileError is the Status for a container whose log cannot be read.
func logFileError(err error, container, pod string, previous bool, dir string) error {
	switch {
	case errors.Is(err, errNoLogFile) && previous:
		return errBadRequest(fmt.Sprintf("previous terminated container %q in pod %q not found", container, pod))
	case errors.Is(err, errNoLogFile), errors.Is(err, os.ErrNotExist):
		return errBadRequest(fmt.Sprintf("container %q in pod %q has no log on this node (nothing under %s)", container, pod, dir))
	default:
		return apierrors.NewInternalError(fmt.Errorf("reading the log of container %q in pod %q: %w", container, pod, err))
	}
}

// containerLogFile is the current log file of the container in dir (the
// highest restart number), or the one of the restart before it.
func containerLogFile(dir string, previous bool) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", errNoLogFile
		}
		return "", err
	}
	var restarts []int
	for _, e := range entries {
		n, ok := strings.CutSuffix(e.Name(), ".log")
		if !ok {
			continue
		}
		if i, err := strconv.Atoi(n); err == nil && i >= 0 {
			restarts = append(restarts, i)
		}
	}
	sort.Ints(restarts)
	idx := len(restarts) - 1
	if previous {
		idx--
	}
	if idx < 0 {
		return "", errNoLogFile
	}
	return filepath.Join(dir, strconv.Itoa(restarts[idx])+".log"), nil
}

// logWriter writes log records per the options: the since filter, the
// timestamps prefix, the byte limit.
type logWriter struct {
	w       http.ResponseWriter
	opts    logOptions
	written int64
	// partial is true inside a line split into P records: its later
	// records are not filtered separately.
	partial bool
	skip    bool
}

var errLogLimit = errors.New("limitBytes reached")

// record writes one CRI record; errLogLimit once limitBytes is reached.
func (lw *logWriter) record(rec criRecord) error {
	continued := lw.partial // rec continues a line split into P records
	if !continued {
		lw.skip = !lw.opts.since.IsZero() && rec.time.Before(lw.opts.since)
	}
	lw.partial = !rec.full
	if lw.skip {
		return nil
	}
	var b []byte
	if lw.opts.timestamps && !continued {
		b = append(b, rec.ts...)
		b = append(b, ' ')
	}
	b = append(b, rec.text...)
	if rec.full {
		b = append(b, '\n')
	}
	if lw.opts.limitBytes > 0 && lw.written+int64(len(b)) > lw.opts.limitBytes {
		b = b[:lw.opts.limitBytes-lw.written]
	}
	n, err := lw.w.Write(b)
	lw.written += int64(n)
	if err != nil {
		return err
	}
	if lw.opts.limitBytes > 0 && lw.written >= lw.opts.limitBytes {
		return errLogLimit
	}
	return nil
}

func (lw *logWriter) flush() {
	if f, ok := lw.w.(http.Flusher); ok {
		f.Flush()
	}
}

// criRecord is one parsed line of a CRI log file.
type criRecord struct {
	ts   []byte // as written (RFC 3339 with nanoseconds)
	time time.Time
	full bool
	text []byte
}

// parseCRI parses "<time> <stream> <P|F> <text>" (without the newline).
func parseCRI(line []byte) (criRecord, error) {
	var rec criRecord
	ts, rest, ok := bytes.Cut(line, []byte{' '})
	if !ok {
		return rec, fmt.Errorf("log line without a timestamp: %q", line)
	}
	t, err := time.Parse(time.RFC3339Nano, string(ts))
	if err != nil {
		return rec, fmt.Errorf("log line timestamp %q: %w", ts, err)
	}
	stream, rest, ok := bytes.Cut(rest, []byte{' '})
	if !ok || (string(stream) != "stdout" && string(stream) != "stderr") {
		return rec, fmt.Errorf("log line without a stream: %q", line)
	}
	tag, text, _ := bytes.Cut(rest, []byte{' '})
	rec.ts, rec.time, rec.text = ts, t, text
	rec.full = !bytes.Equal(tag, []byte("P")) // kubelet: anything but P ends a line
	return rec, nil
}

// streamLog writes f's records (tail first, then, following, what is
// appended, across rotations of path) until EOF, the limit, or ctx.
func streamLog(ctx context.Context, f *os.File, path string, lw *logWriter) error {
	start, err := tailOffset(f, lw.opts.tailLines)
	if err != nil {
		return err
	}
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return err
	}
	br := bufio.NewReaderSize(f, 64<<10)
	var pending []byte // a line not yet ended by '\n' (still being written)
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			pending = append(pending, line...)
			continue
		}
		if err == nil {
			full := append(pending, line[:len(line)-1]...)
			pending = pending[:0]
			rec, perr := parseCRI(full)
			if perr != nil {
				continue // kubelet skips lines it cannot parse too
			}
			if werr := lw.record(rec); werr != nil {
				if errors.Is(werr, errLogLimit) {
					return nil
				}
				return werr
			}
			continue
		}
		if err != io.EOF {
			return err
		}
		pending = append(pending, line...)
		if !lw.opts.follow {
			return nil
		}
		lw.flush()
		next, rotated, werr := waitForLog(ctx, f, path)
		if werr != nil {
			return nil // the client left or the server stops
		}
		if rotated {
			f.Close()
			f = next
			defer next.Close()
			br.Reset(f)
			pending = pending[:0]
		}
	}
}

// waitForLog waits until f has grown or path names a new file (rotation,
// after f was read to its end). It returns the new file when rotated.
func waitForLog(ctx context.Context, f *os.File, path string) (*os.File, bool, error) {
	t := time.NewTicker(logFollowPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-t.C:
		}
		cur, err := f.Stat()
		if err != nil {
			return nil, false, err
		}
		pos, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, false, err
		}
		if cur.Size() > pos {
			return nil, false, nil
		}
		st, err := os.Stat(path)
		if err != nil || os.SameFile(st, cur) {
			continue // rotated away and not yet recreated, or unchanged
		}
		nf, err := os.Open(path)
		if err != nil {
			continue
		}
		return nf, true, nil
	}
}

// tailOffset is the offset of the n-th last line of f (0 for n < 0 or a
// file with fewer lines), reading backwards in blocks.
func tailOffset(f *os.File, n int64) (int64, error) {
	if n < 0 {
		return 0, nil
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	end := st.Size()
	if n == 0 {
		return end, nil
	}
	const block = 32 << 10
	buf := make([]byte, block)
	var lines int64
	pos := end
	for pos > 0 {
		size := int64(block)
		if pos < size {
			size = pos
		}
		pos -= size
		if _, err := f.ReadAt(buf[:size], pos); err != nil && err != io.EOF {
			return 0, err
		}
		for i := size - 1; i >= 0; i-- {
			if buf[i] != '\n' || pos+i == end-1 {
				continue // the last line's own newline does not count
			}
			lines++
			if lines == n {
				return pos + i + 1, nil
			}
		}
	}
	return 0, nil
}
