// Owners of the hollow pods the churn's unit tests kill: a ReplicaSet's pods need a hold's policy, a StatefulSet's not.
import type { OwnerRef } from "../../measure/scenarios/churn/hollowPods";

export const RS: OwnerRef = {
    apiVersion: "apps/v1",
    kind: "ReplicaSet",
    name: "hollow-node-dep-5d4f",
    uid: "11111111-2222-3333-4444-555555555555",
};
export const STS: OwnerRef = { apiVersion: "apps/v1", kind: "StatefulSet", name: "hollow-node-sts", uid: "sts-uid" };
