// The churn's hold: its admission policy, binding and probe pod by name and content, and refusals before any kill.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RunContext } from "../../../measure/context";
import type { Kube } from "../../../measure/kube";
import { defaultOptions } from "../../../measure/options";
import { Holds } from "../../../measure/scenarios/churn/hold";
import type { HollowPod, OwnerRef } from "../../../measure/scenarios/churn/hollowPods";
import {
    deniedBy,
    holdBinding,
    holdPolicy,
    holdPolicyName,
    HoldPolicy,
    needsPolicy,
    probePod,
    servesPolicies,
} from "../../../measure/scenarios/churn/policy";
import { RS, STS } from "../../harness/churnOwners";

const POLICY: HoldPolicy = {
    name: "kubemark-pulumi.churn-hold.20260101t000000000z-abc123.2",
    namespace: "kubemark-dep",
    owner: RS,
    pod: "hollow-node-dep-5d4f-x1",
    stackLabelValue: "kubemark.dep",
    runId: "20260101t000000000z-abc123",
    holder: "host/42",
};

describe("churn: the hold's admission policy", () => {
    const names: [string, string, number, string][] = [
        [
            "the run id as the command line makes it",
            "20260101t000000000z-abc123",
            1,
            "kubemark-pulumi.churn-hold.20260101t000000000z-abc123.1",
        ],
        ["upper case and odd characters made a DNS subdomain", "Run_7/A", 12, "kubemark-pulumi.churn-hold.run-7-a.12"],
    ];
    for (const [name, runId, kill, want] of names) {
        it(`name: ${name}`, () => assert.equal(holdPolicyName(runId, kill), want));
    }

    it("the policy refuses CREATE of pods whose controller is the killed pod's owner, by uid, with a 403", () => {
        const p = holdPolicy(POLICY) as any;
        assert.equal(p.apiVersion, "admissionregistration.k8s.io/v1");
        assert.equal(p.kind, "ValidatingAdmissionPolicy");
        assert.deepEqual(p.metadata, {
            name: POLICY.name,
            labels: {
                "kubemark-pulumi/stack": "kubemark.dep",
                "kubemark-pulumi/measure": "true",
                "kubemark-pulumi/measure-run": POLICY.runId,
            },
            annotations: { "kubemark-pulumi/measure-holder": "host/42" },
        });
        assert.equal(p.spec.failurePolicy, "Fail");
        assert.deepEqual(p.spec.matchConstraints, {
            resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"] }],
        });
        const [v] = p.spec.validations;
        assert.equal(
            v.expression,
            "!has(object.metadata.ownerReferences) || !object.metadata.ownerReferences.exists(r, " +
                "has(r.controller) && r.controller && r.uid == '11111111-2222-3333-4444-555555555555')",
        );
        assert.equal(v.reason, "Forbidden");
        assert.match(
            v.message,
            /keeps ReplicaSet hollow-node-dep-5d4f one pod short while its killed pod hollow-node-dep-5d4f-x1 is down/,
        );
    });

    it("a quote in the uid cannot end the CEL string", () => {
        const p = holdPolicy({ ...POLICY, owner: { ...RS, uid: "a'b\\c" } }) as any;
        assert.match(p.spec.validations[0].expression, /r\.uid == 'a\\'b\\\\c'\)$/);
    });

    it("the binding denies, in the hollow pods' namespace only, under the policy's name and labels", () => {
        const b = holdBinding(POLICY) as any;
        assert.equal(b.kind, "ValidatingAdmissionPolicyBinding");
        assert.deepEqual(b.metadata, (holdPolicy(POLICY) as any).metadata);
        assert.deepEqual(b.spec, {
            policyName: POLICY.name,
            validationActions: ["Deny"],
            matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kubemark-dep" } } },
        });
    });

    it("the probe pod is the owner's, mounts no token, and passes the restricted Pod Security level", () => {
        const p = probePod("kubemark-dep", RS) as any;
        assert.deepEqual(p.metadata.ownerReferences, [{ ...RS, controller: true }]);
        assert.equal(p.metadata.namespace, "kubemark-dep");
        assert.equal(p.spec.automountServiceAccountToken, false);
        assert.equal(p.spec.securityContext.runAsNonRoot, true);
        assert.deepEqual(p.spec.containers[0].securityContext, {
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
        });
    });

    const refusals: [string, unknown, boolean][] = [
        [
            "this policy's refusal",
            {
                code: 403,
                message:
                    `HTTP 403 for POST /api/v1/namespaces/x/pods: {"message":"pods \\"p\\" is forbidden: ` +
                    `ValidatingAdmissionPolicy '${POLICY.name}' with binding '${POLICY.name}' denied request: ..."}`,
            },
            true,
        ],
        [
            "another kill's policy",
            { code: 403, message: `ValidatingAdmissionPolicy '${POLICY.name}0' with binding` },
            false,
        ],
        ["RBAC", { code: 403, message: 'User "x" cannot create resource "pods"' }, false],
        ["admitted (no error)", undefined, false],
        ["unreachable", new Error("no answer"), false],
    ];
    for (const [name, error, want] of refusals) {
        it(`deniedBy: ${name}`, () => assert.equal(deniedBy(error, POLICY.name), want));
    }

    const served: [string, { resources?: { name?: string }[] } | undefined, boolean][] = [
        [
            "v1.30 and later",
            {
                resources: [
                    { name: "validatingadmissionpolicies" },
                    { name: "validatingadmissionpolicies/status" },
                    { name: "validatingadmissionpolicybindings" },
                    { name: "validatingwebhookconfigurations" },
                ],
            },
            true,
        ],
        [
            "v1.29: webhooks only in v1",
            { resources: [{ name: "validatingwebhookconfigurations" }, { name: "mutatingwebhookconfigurations" }] },
            false,
        ],
        ["the group not served (404)", undefined, false],
    ];
    for (const [name, list, want] of served) {
        it(`servesPolicies: ${name}`, () => assert.equal(servesPolicies(list), want));
    }

    it("only owners that bring a pod back under a new name need the policy", () => {
        assert.deepEqual([STS, RS, { ...RS, kind: "ReplicationController", apiVersion: "v1" }].map(needsPolicy), [
            false,
            true,
            true,
        ]);
    });
});

describe("churn: refusing before anything is killed", () => {
    const fake = (answers: Record<string, unknown>, calls: string[]): Kube => ({
        server: "https://node:6443",
        async json<T>(method: string, path: string) {
            calls.push(`${method} ${path}`);
            return answers[`${method} ${path}`] as T;
        },
        async maybe<T>(method: string, path: string) {
            calls.push(`${method} ${path}`);
            return answers[`${method} ${path}`] as T | undefined;
        },
        text: async () => ({ status: 200, body: "" }),
        kubeConfig: () => {
            throw new Error("not used");
        },
    });
    const context = (nodeCluster: Kube) =>
        ({
            nodeCluster,
            stack: { namespace: "kubemark-dep" },
            options: defaultOptions("dep", "churn"),
            log: () => undefined,
        }) as unknown as RunContext;
    const victim = (owner: OwnerRef): HollowPod => ({
        uid: "p",
        name: "p",
        owner,
        createdMs: 0,
        seenMs: 0,
        terminating: false,
    });
    const SSAR = "POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

    it("a StatefulSet's kills need nothing: nothing is asked", async () => {
        const calls: string[] = [];
        await new Holds(context(fake({}, calls)), fake({}, calls)).check([victim(STS)]);
        assert.deepEqual(calls, []);
    });

    it("a ReplicaSet's kills where admissionregistration.k8s.io/v1 serves no policies: refused, naming the version", async () => {
        const calls: string[] = [];
        const api = fake(
            {
                "GET /apis/admissionregistration.k8s.io/v1": {
                    resources: [{ name: "validatingwebhookconfigurations" }],
                },
                "GET /version": { gitVersion: "v1.29.15" },
            },
            calls,
        );
        await assert.rejects(
            new Holds(context(api), api).check([victim(RS)]),
            /ValidatingAdmissionPolicy \(admissionregistration.k8s.io\/v1, Kubernetes v1.30 or later\) in the node cluster https:\/\/node:6443, which does not serve it \(it runs v1.29.15\); nothing was killed/,
        );
        assert.ok(!calls.some((c) => c.startsWith("POST")), calls.join("\n"));
    });

    it("served, but the node kubeconfig may not make policies: refused, naming what it may not do", async () => {
        const calls: string[] = [];
        const api = fake(
            {
                "GET /apis/admissionregistration.k8s.io/v1": {
                    resources: [{ name: "validatingadmissionpolicies" }, { name: "validatingadmissionpolicybindings" }],
                },
                [SSAR]: { status: { allowed: false } },
            },
            calls,
        );
        await assert.rejects(
            new Holds(context(api), api).check([victim(RS)]),
            /may not create validatingadmissionpolicies, delete validatingadmissionpolicies, create validatingadmissionpolicybindings, delete validatingadmissionpolicybindings, create pods in kubemark-dep/,
        );
    });
});
