// Scenario load's Kubernetes objects: CL2's load manifests as plain JSON, and the calls that change them.
import { STACK_LABEL_KEY } from "../../../components/config/settings";
import { LOAD_IMAGE, MEASURE_LABEL_KEY, nodeChoice, RUN_LABEL_KEY, Toleration } from "../../objects";
import type { Placement } from "../../pools";
import { GROUP_LABEL_KEY } from "../../phases/pods";
import { JOB_COMPLETIONS_FACTOR, LoadKind, LoadObject } from "./plan";

/** CL2's DaemonSet env before and after its update (config.yaml L209, L359): the template change that rolls it. */
export const DAEMONSET_ENV = { name: "TEST_ENV", before: "before update", after: "after update" } as const;

export interface ManifestContext {
    readonly stackLabelValue: string;
    readonly runId: string;
    readonly tolerations: readonly Toleration[];
    readonly priorityClass: string;
    /** The run's pools; undefined: any of the stack's hollow Nodes. */
    readonly placement?: Placement;
}

/**
 * A call that changes an object. `readFirst`: GET `path`, apply `body` to what came back as a JSON merge patch
 * (mergePatch), PUT the result (its resourceVersion kept; again from the GET on 409). Otherwise send `body` as it is.
 * Not a PATCH: the measure client sends only application/json, which PATCH does not take; CL2 does GET, merge PATCH.
 */
export interface Request {
    readonly method: "PUT" | "DELETE";
    readonly path: string;
    readonly body: unknown;
    readonly readFirst: boolean;
}

const API: Record<LoadKind, { group: string; plural: string }> = {
    ConfigMap: { group: "/api/v1", plural: "configmaps" },
    Secret: { group: "/api/v1", plural: "secrets" },
    Service: { group: "/api/v1", plural: "services" },
    Deployment: { group: "/apis/apps/v1", plural: "deployments" },
    StatefulSet: { group: "/apis/apps/v1", plural: "statefulsets" },
    DaemonSet: { group: "/apis/apps/v1", plural: "daemonsets" },
    Job: { group: "/apis/batch/v1", plural: "jobs" },
    PriorityClass: { group: "/apis/scheduling.k8s.io/v1", plural: "priorityclasses" },
};

/** The collection an object is POSTed to. */
export function collectionPath(o: LoadObject): string {
    const api = API[o.kind];
    return o.namespace === ""
        ? `${api.group}/${api.plural}`
        : `${api.group}/namespaces/${encodeURIComponent(o.namespace)}/${api.plural}`;
}

export const itemPath = (o: LoadObject) => `${collectionPath(o)}/${encodeURIComponent(o.name)}`;

/** Labels of every object of the run: found by stack, run and group alone. */
const objectLabels = (o: LoadObject, cx: ManifestContext) => ({
    [STACK_LABEL_KEY]: cx.stackLabelValue,
    [RUN_LABEL_KEY]: cx.runId,
    [GROUP_LABEL_KEY]: "load",
    app: o.name,
});
/** What a workload's selector and its Service pick: the run's pods of this object only. */
const selectorOf = (o: LoadObject, cx: ManifestContext) => ({ [RUN_LABEL_KEY]: cx.runId, app: o.name });
/** CL2's `svc: <size>-service-<Index>` on all Deployments' pods; the first half have that Service (service.yaml). */
const svcOf = (o: LoadObject) => `${o.group}-service-${o.index}`;

interface PodParts {
    readonly env?: readonly { name: string; value: string }[];
    readonly ports?: readonly { containerPort: number; name: string }[];
    readonly volumes?: readonly unknown[];
    readonly volumeMounts?: readonly unknown[];
    readonly restartPolicy?: "OnFailure";
    readonly priorityClassName?: string;
    readonly labels?: Readonly<Record<string, string>>;
}

/** CL2's pause container with 5m CPU and 20M memory (deployment.yaml L3-4), on this stack's hollow Nodes only. */
function container(parts: PodParts) {
    return {
        name: "pause",
        image: LOAD_IMAGE,
        ...(parts.env ? { env: parts.env } : {}),
        ...(parts.ports ? { ports: parts.ports } : {}),
        resources: { requests: { cpu: "5m", memory: "20M" } },
        ...(parts.volumeMounts ? { volumeMounts: parts.volumeMounts } : {}),
    };
}

function podTemplate(o: LoadObject, cx: ManifestContext, parts: PodParts) {
    return {
        metadata: { labels: { ...objectLabels(o, cx), ...parts.labels } },
        spec: {
            ...nodeChoice(cx.stackLabelValue, cx.placement),
            tolerations: cx.tolerations,
            ...(parts.priorityClassName ? { priorityClassName: parts.priorityClassName } : {}),
            ...(parts.restartPolicy ? { restartPolicy: parts.restartPolicy } : {}),
            // A delete waits for the kubelet's confirmation, as anywhere, but never long.
            terminationGracePeriodSeconds: 1,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            containers: [container(parts)],
            ...(parts.volumes ? { volumes: parts.volumes } : {}),
        },
    };
}

const meta = (o: LoadObject, cx: ManifestContext) => ({
    name: o.name,
    namespace: o.namespace,
    labels: objectLabels(o, cx),
});

/** A Deployment mounting its own ConfigMap and Secret (deployment.yaml L176-205): a hollow kubelet only reads them. */
function deployment(o: LoadObject, cx: ManifestContext) {
    return {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: meta(o, cx),
        spec: {
            replicas: o.replicas,
            selector: { matchLabels: selectorOf(o, cx) },
            template: podTemplate(o, cx, {
                labels: { svc: svcOf(o) },
                volumeMounts: [
                    { name: "configmap", mountPath: "/var/configmap" },
                    { name: "secret", mountPath: "/var/secret" },
                ],
                volumes: [
                    { name: "configmap", configMap: { name: o.name } },
                    { name: "secret", secret: { secretName: o.name } },
                ],
            }),
        },
    };
}

/** Parallel pod management as CL2 (statefulset.yaml L15); no volumeClaimTemplates: hollow Nodes bind no volume. */
function statefulSet(o: LoadObject, cx: ManifestContext) {
    return {
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: meta(o, cx),
        spec: {
            podManagementPolicy: "Parallel",
            serviceName: o.name,
            replicas: o.replicas,
            selector: { matchLabels: selectorOf(o, cx) },
            template: podTemplate(o, cx, { ports: [{ containerPort: 80, name: "web" }] }),
        },
    };
}

/**
 * A Job as CL2's job.yaml: completions 3 × size, so parallelism scaled up to 1.5× still runs (completions is
 * immutable). Its pods are pause pods, as CL2's (job.yaml, TODO #799: run to completion is not tested), so they stay
 * Running until the delete on real Nodes too: no run-seconds annotation, which would leave CL2's load.
 */
function job(o: LoadObject, cx: ManifestContext) {
    const size = o.replicas ?? 0;
    return {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: meta(o, cx),
        spec: {
            backoffLimit: size,
            manualSelector: true,
            parallelism: size,
            completions: Math.trunc(size * JOB_COMPLETIONS_FACTOR),
            selector: { matchLabels: selectorOf(o, cx) },
            template: podTemplate(o, cx, { restartPolicy: "OnFailure" }),
        },
    };
}

const daemonSetParts = (cx: ManifestContext, env: string): PodParts => ({
    env: [{ name: DAEMONSET_ENV.name, value: env }],
    priorityClassName: cx.priorityClass,
});

function daemonSet(o: LoadObject, cx: ManifestContext) {
    return {
        apiVersion: "apps/v1",
        kind: "DaemonSet",
        metadata: meta(o, cx),
        spec: {
            updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: o.maxUnavailable ?? 10 } },
            selector: { matchLabels: selectorOf(o, cx) },
            template: podTemplate(o, cx, daemonSetParts(cx, DAEMONSET_ENV.before)),
        },
    };
}

/** A Deployment's Service selects its `svc` label; a StatefulSet's is headless (statefulset_service.yaml). */
function service(o: LoadObject, cx: ManifestContext) {
    const spec = o.headless
        ? { clusterIP: "None", selector: selectorOf(o, cx) }
        : { selector: { [RUN_LABEL_KEY]: cx.runId, svc: o.name }, ports: [{ port: 80, targetPort: 80 }] };
    return { apiVersion: "v1", kind: "Service", metadata: meta(o, cx), spec };
}

/** CL2 keeps 10% mutable: Index % 20 in {0, 19} for ConfigMaps, {10, 19} for Secrets (configmap.yaml, secret.yaml). */
function configMap(o: LoadObject, cx: ManifestContext) {
    const mutable = [0, 19].includes(o.index % 20);
    return {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: meta(o, cx),
        ...(mutable ? {} : { immutable: true }),
        data: { "all-queries": "kubernetes.default\nmetadata.google.internal\ngoogle.com\n" },
    };
}

function secret(o: LoadObject, cx: ManifestContext) {
    const mutable = [10, 19].includes(o.index % 20);
    return {
        apiVersion: "v1",
        kind: "Secret",
        metadata: meta(o, cx),
        ...(mutable ? {} : { immutable: true }),
        type: "Opaque",
        data: { password: "c2NhbGFiaWxpdHkK" },
    };
}

/** CL2's DaemonSet priority (daemonset-priorityclass.yaml): above the load, so a DaemonSet pod always finds room. */
export function priorityClassObject(name: string, runId: string, stackLabelValue: string) {
    return {
        apiVersion: "scheduling.k8s.io/v1",
        kind: "PriorityClass",
        metadata: {
            name,
            labels: { [STACK_LABEL_KEY]: stackLabelValue, [MEASURE_LABEL_KEY]: "true", [RUN_LABEL_KEY]: runId },
        },
        value: 1000000,
        globalDefault: false,
        description:
            "The load DaemonSet's pods, above the other load pods so there is always room for them (as CL2, kubernetes/kubernetes#82818).",
    };
}

const BUILDERS: Record<LoadKind, (o: LoadObject, cx: ManifestContext) => unknown> = {
    ConfigMap: configMap,
    Secret: secret,
    Service: service,
    Deployment: deployment,
    StatefulSet: statefulSet,
    Job: job,
    DaemonSet: daemonSet,
    PriorityClass: (o, cx) => priorityClassObject(o.name, cx.runId, cx.stackLabelValue),
};

/** A create step: POST `body` to `apiPath`. */
export function manifestOf(o: LoadObject, cx: ManifestContext): { apiPath: string; body: unknown } {
    return { apiPath: collectionPath(o), body: BUILDERS[o.kind](o, cx) };
}

/**
 * A scale step. Deployments and StatefulSets: PUT their /scale subresource, no resourceVersion (an unconditional
 * update, as `kubectl scale`). Jobs have none: read the Job, set spec.parallelism, write it back (readFirst).
 */
export function scaleRequest(o: LoadObject, replicas: number): Request {
    if (o.kind === "Deployment" || o.kind === "StatefulSet") {
        return {
            method: "PUT",
            path: `${itemPath(o)}/scale`,
            readFirst: false,
            body: {
                apiVersion: "autoscaling/v1",
                kind: "Scale",
                metadata: { name: o.name, namespace: o.namespace },
                spec: { replicas },
            },
        };
    }
    if (o.kind === "Job") {
        return { method: "PUT", path: itemPath(o), readFirst: true, body: { spec: { parallelism: replicas } } };
    }
    throw new Error(`${o.kind} ${o.namespace}/${o.name}: not scaled; only Deployments, StatefulSets and Jobs are`);
}

/** The update step: the DaemonSet's container with TEST_ENV "after update", which rolls every pod (readFirst). */
export function daemonSetUpdate(o: LoadObject, cx: ManifestContext): Request {
    if (o.kind !== "DaemonSet") {
        throw new Error(`${o.kind} ${o.namespace}/${o.name}: only the DaemonSet is updated`);
    }
    // A merge patch replaces a list whole: the container goes in complete, as the create made it but for the env.
    return {
        method: "PUT",
        path: itemPath(o),
        readFirst: true,
        body: { spec: { template: { spec: { containers: [container(daemonSetParts(cx, DAEMONSET_ENV.after))] } } } },
    };
}

/** A delete or teardown step: dependants go in the background, as CL2's DeleteObject; a 404 means done. */
export function deleteRequest(o: LoadObject): Request {
    return {
        method: "DELETE",
        path: itemPath(o),
        readFirst: false,
        body: { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: "Background" },
    };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** RFC 7386 JSON merge patch: objects merge key by key, null removes a key, anything else (lists too) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
    if (!isObject(patch)) {
        return patch;
    }
    const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
    for (const [k, v] of Object.entries(patch)) {
        if (v === null) {
            delete out[k];
        } else {
            out[k] = mergePatch(out[k], v);
        }
    }
    return out;
}
