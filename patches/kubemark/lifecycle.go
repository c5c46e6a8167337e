// kubemark-pulumi: lets a hollow pod's containers finish after the seconds its annotations ask, as batch pods do.

package app

import (
	"context"
	"strconv"
	"sync"
	"time"

	internalapi "k8s.io/cri-api/pkg/apis"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/klog/v2"
)

// The pod annotations (the kubelet copies a pod's annotations into its PodSandboxConfig) that make its containers end.
const (
	runSecondsAnnotation = "kubemark-pulumi/run-seconds"
	exitCodeAnnotation   = "kubemark-pulumi/exit-code"
)

// containerExit is how a container of an annotated pod ends: runFor after it started, with exitCode.
type containerExit struct {
	runFor   time.Duration
	exitCode int32
}

// exitFromAnnotations reads a pod's annotations; without a valid run-seconds its containers run until stopped, as
// without this patch. An invalid value is logged and ignored rather than guessed at.
func exitFromAnnotations(annotations map[string]string) (containerExit, bool) {
	text, ok := annotations[runSecondsAnnotation]
	if !ok {
		return containerExit{}, false
	}
	seconds, err := strconv.ParseInt(text, 10, 32)
	if err != nil || seconds < 0 {
		klog.InfoS("Ignoring an annotation that is not a whole number of seconds (0 or more)", "annotation", runSecondsAnnotation, "value", text)
		return containerExit{}, false
	}
	exit := containerExit{runFor: time.Duration(seconds) * time.Second}
	if text, ok := annotations[exitCodeAnnotation]; ok {
		code, err := strconv.ParseInt(text, 10, 32)
		if err != nil || code < 0 || code > 255 {
			klog.InfoS("Ignoring an annotation that is not an exit code (0 to 255): the pod runs until stopped", "annotation", exitCodeAnnotation, "value", text)
			return containerExit{}, false
		}
		exit.exitCode = int32(code)
	}
	return exit, true
}

// lifecycleRuntime reports a container of an annotated pod as exited once its time is up, in ListContainers (which
// the generic PLEG relists) and ContainerStatus (which kuberuntime's GetPodStatus reads); the fake runtime itself
// keeps it running until the kubelet stops or removes it. A restarted container is a new one, with its own clock.
type lifecycleRuntime struct {
	internalapi.RuntimeService
	now        func() time.Time
	mu         sync.Mutex
	containers map[string]*finishingContainer
}

type finishingContainer struct {
	exit    containerExit
	started time.Time
}

func withLifecycle(inner internalapi.RuntimeService) internalapi.RuntimeService {
	return &lifecycleRuntime{RuntimeService: inner, now: time.Now, containers: map[string]*finishingContainer{}}
}

func (r *lifecycleRuntime) CreateContainer(ctx context.Context, podSandboxID string, config *runtimeapi.ContainerConfig, sandboxConfig *runtimeapi.PodSandboxConfig) (string, error) {
	id, err := r.RuntimeService.CreateContainer(ctx, podSandboxID, config, sandboxConfig)
	if err != nil {
		return id, err
	}
	if exit, ok := exitFromAnnotations(sandboxConfig.GetAnnotations()); ok {
		r.mu.Lock()
		r.containers[id] = &finishingContainer{exit: exit}
		r.mu.Unlock()
	}
	return id, nil
}

func (r *lifecycleRuntime) StartContainer(ctx context.Context, containerID string) error {
	if err := r.RuntimeService.StartContainer(ctx, containerID); err != nil {
		return err
	}
	r.mu.Lock()
	if c, ok := r.containers[containerID]; ok {
		c.started = r.now()
	}
	r.mu.Unlock()
	return nil
}

// finished says when a running container's time ran out, if it did.
func (r *lifecycleRuntime) finished(containerID string, state runtimeapi.ContainerState) (containerExit, time.Time, bool) {
	if state != runtimeapi.ContainerState_CONTAINER_RUNNING {
		return containerExit{}, time.Time{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.containers[containerID]
	if !ok || c.started.IsZero() {
		return containerExit{}, time.Time{}, false
	}
	end := c.started.Add(c.exit.runFor)
	return c.exit, end, !r.now().Before(end)
}

func (r *lifecycleRuntime) ContainerStatus(ctx context.Context, containerID string, verbose bool) (*runtimeapi.ContainerStatusResponse, error) {
	resp, err := r.RuntimeService.ContainerStatus(ctx, containerID, verbose)
	if err != nil || resp.GetStatus() == nil {
		return resp, err
	}
	if exit, end, done := r.finished(containerID, resp.Status.State); done {
		resp.Status.State = runtimeapi.ContainerState_CONTAINER_EXITED
		resp.Status.ExitCode = exit.exitCode
		resp.Status.FinishedAt = end.UnixNano()
		resp.Status.Reason = "Completed"
		if exit.exitCode != 0 {
			resp.Status.Reason = "Error"
		}
	}
	return resp, nil
}

func (r *lifecycleRuntime) ListContainers(ctx context.Context, filter *runtimeapi.ContainerFilter) ([]*runtimeapi.Container, error) {
	// A state filter is applied here, after the rewrite: the fake runtime would filter on its own, unfinished, state.
	var want *runtimeapi.ContainerStateValue
	inner := filter
	if filter.GetState() != nil {
		want = filter.GetState()
		inner = &runtimeapi.ContainerFilter{Id: filter.Id, PodSandboxId: filter.PodSandboxId, LabelSelector: filter.LabelSelector}
	}
	containers, err := r.RuntimeService.ListContainers(ctx, inner)
	if err != nil {
		return containers, err
	}
	out := containers[:0]
	for _, c := range containers {
		if _, _, done := r.finished(c.Id, c.State); done {
			c.State = runtimeapi.ContainerState_CONTAINER_EXITED
		}
		if want == nil || c.State == want.State {
			out = append(out, c)
		}
	}
	return out, nil
}

func (r *lifecycleRuntime) RemoveContainer(ctx context.Context, containerID string) error {
	if err := r.RuntimeService.RemoveContainer(ctx, containerID); err != nil {
		return err
	}
	r.mu.Lock()
	delete(r.containers, containerID)
	r.mu.Unlock()
	return nil
}
