// HollowCredentials: the dynamic resource that issues the hollow nodes' certificates and tokens in the target.
import * as pulumi from "@pulumi/pulumi";
import { DynamicArgs } from "../kube/dynamic";
import { DynamicResource } from "../kube/dynamicResource";
import type { NodeCertificate } from "./csr";
import { CREDENTIALS_PROVIDER_VERSION, HollowCredentialsInputs, HollowCredentialsProvider, ServiceAccountToken } from "./provider";

/** Issues and renews the per-node certificates and the tokens; destroy deletes the stack's CSRs. */
export class HollowCredentials extends DynamicResource {
    declare readonly certificates: pulumi.Output<Record<string, NodeCertificate>>;
    declare readonly tokens: pulumi.Output<Record<string, ServiceAccountToken>>;

    constructor(name: string, args: DynamicArgs<HollowCredentialsInputs>, opts?: pulumi.CustomResourceOptions) {
        super(new HollowCredentialsProvider(), "HollowCredentials", name,
            { ...args, providerVersion: CREDENTIALS_PROVIDER_VERSION, certificates: undefined, tokens: undefined },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["targetKubeconfig", "certificates", "tokens"] }));
    }
}
