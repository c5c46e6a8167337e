// The admission policy that keeps a killed pod's owner from creating its replacement during the window: pure objects.
import { STACK_LABEL_KEY } from "../../../components/config/settings";
import { MEASURE_LABEL_KEY, RUN_LABEL_KEY } from "../../objects";
import type { OwnerRef } from "./hollowPods";

export const ADMISSION_API = "admissionregistration.k8s.io/v1";
export const POLICIES_PATH = `/apis/${ADMISSION_API}/validatingadmissionpolicies`;
export const BINDINGS_PATH = `/apis/${ADMISSION_API}/validatingadmissionpolicybindings`;
/** Every policy and binding of a churn starts so: leftovers are found by label, and only names so made are removed. */
export const HOLD_POLICY_PREFIX = "kubemark-pulumi.churn-hold.";
/** Who made a policy (host/pid): a later run leaves a live run's policies alone. */
export const HOLDER_ANNOTATION = "kubemark-pulumi/measure-holder";
/** The probe pod's image: it is only ever created as a dry run, so nothing is pulled. */
const PROBE_IMAGE = "registry.k8s.io/pause:3.10";

/** One kill's policy and binding, under one name: the prefix, the run and the kill's number. */
export function holdPolicyName(runId: string, kill: number): string {
    const run = runId
        .toLowerCase()
        .replace(/[^a-z0-9-]+/g, "-")
        .replace(/^-+|-+$/g, "");
    return `${HOLD_POLICY_PREFIX}${run}.${kill}`;
}

export interface HoldPolicy {
    readonly name: string;
    readonly namespace: string;
    readonly owner: OwnerRef;
    /** The killed pod, for the message a denied create carries. */
    readonly pod: string;
    readonly stackLabelValue: string;
    readonly runId: string;
    readonly holder: string;
}

const quote = (text: string) => `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

function metadata(p: HoldPolicy) {
    return {
        name: p.name,
        labels: { [STACK_LABEL_KEY]: p.stackLabelValue, [MEASURE_LABEL_KEY]: "true", [RUN_LABEL_KEY]: p.runId },
        annotations: { [HOLDER_ANNOTATION]: p.holder },
    };
}

/**
 * Denies the creation of any pod whose controller is the killed pod's owner: a ReplicaSet or ReplicationController
 * brings a killed pod back at once under a new name, and no other object of the node cluster is touched to stop it.
 * Matched by the owner's uid, which names that very object; the binding keeps it to the hollow pods' namespace.
 */
export function holdPolicy(p: HoldPolicy): Record<string, unknown> {
    return {
        apiVersion: ADMISSION_API,
        kind: "ValidatingAdmissionPolicy",
        metadata: metadata(p),
        spec: {
            failurePolicy: "Fail",
            matchConstraints: {
                resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
            },
            validations: [
                {
                    expression:
                        "!has(object.metadata.ownerReferences) || !object.metadata.ownerReferences.exists(r, " +
                        `has(r.controller) && r.controller && r.uid == ${quote(p.owner.uid)})`,
                    message:
                        `kubemark-pulumi measure churn (run ${p.runId}) keeps ${p.owner.kind} ${p.owner.name} one pod short while its killed pod ` +
                        `${p.pod} is down; the run removes this policy when the window ends`,
                    // 403, as an authorizer's refusal: the workload controller records it and retries later.
                    reason: "Forbidden",
                },
            ],
        },
    };
}

export function holdBinding(p: HoldPolicy): Record<string, unknown> {
    return {
        apiVersion: ADMISSION_API,
        kind: "ValidatingAdmissionPolicyBinding",
        metadata: metadata(p),
        spec: {
            policyName: p.name,
            validationActions: ["Deny"],
            matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": p.namespace } } },
        },
    };
}

/**
 * A pod the owner could create, sent only as a dry run: whether the policy is in force is read from the API server's
 * answer, not assumed from the policy's existence (the API server loads policies from a watch, a moment later).
 * Shaped to pass the restricted Pod Security level, so no other admission refuses it first.
 */
export function probePod(namespace: string, owner: OwnerRef): Record<string, unknown> {
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: {
            generateName: "kubemark-churn-probe-",
            namespace,
            ownerReferences: [
                { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid, controller: true },
            ],
        },
        spec: {
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
                {
                    name: "probe",
                    image: PROBE_IMAGE,
                    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
                },
            ],
        },
    };
}

/** Whether an API error is this policy's refusal: the API server names the policy in the message. */
export function deniedBy(error: unknown, policy: string): boolean {
    const e = error as { code?: unknown; message?: unknown } | undefined;
    return e?.code === 403 && typeof e.message === "string" && e.message.includes(`'${policy}'`);
}

/** Whether the node cluster serves both admission policy kinds in admissionregistration.k8s.io/v1 (v1.30 and later). */
export function servesPolicies(resources: { resources?: readonly { name?: string }[] } | undefined): boolean {
    const names = new Set((resources?.resources ?? []).map((r) => r.name));
    return names.has("validatingadmissionpolicies") && names.has("validatingadmissionpolicybindings");
}

/** The owners whose replacements need the policy: a StatefulSet makes none while its killed pod is held terminating. */
export const needsPolicy = (owner: OwnerRef) => owner.kind !== "StatefulSet";
