// The dynamic providers as Pulumi stores them in state: their serialized code and a digest of it, by version.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { CREDENTIALS_PROVIDER_VERSION, HollowCredentialsProvider } from "../../components/credentials/provider";
import { OWNERSHIP_PROVIDER_VERSION, OwnershipGuardProvider } from "../../components/ownership/provider";
import { HollowNodeSyncProvider, NodeReaperProvider, PROVIDER_VERSION, SYNC_PROVIDER_VERSION } from "../../components/reaper/provider";
import { ROOT } from "./paths";

/** Each dynamic resource's provider, the version constant it stores, and the name of that constant. */
export const PROVIDERS = {
    NodeReaper: { version: PROVIDER_VERSION, constant: "PROVIDER_VERSION", make: () => new NodeReaperProvider() },
    HollowNodeSync: { version: SYNC_PROVIDER_VERSION, constant: "SYNC_PROVIDER_VERSION", make: () => new HollowNodeSyncProvider() },
    HollowCredentials: { version: CREDENTIALS_PROVIDER_VERSION, constant: "CREDENTIALS_PROVIDER_VERSION", make: () => new HollowCredentialsProvider() },
    OwnershipGuard: { version: OWNERSHIP_PROVIDER_VERSION, constant: "OWNERSHIP_PROVIDER_VERSION", make: () => new OwnershipGuardProvider() },
} as const;
export type ProviderName = keyof typeof PROVIDERS;

/**
 * Digests of each provider's serialized code, by version: checked in, so a change without a new version fails a test.
 */
export const DIGESTS_FILE = path.join(ROOT, "test", "unit", "providerDigests.json");
export type Digests = Record<string, Record<string, string>>;

/** The provider's code as `pulumi.dynamic.Resource` serializes it into state. */
export async function serializedProvider(name: ProviderName): Promise<string> {
    const provider = PROVIDERS[name].make();
    const sf = await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true });
    return sf.text;
}

export const digest = (code: string) => createHash("sha256").update(code).digest("hex");

export function recordedDigests(): Digests {
    return JSON.parse(fs.readFileSync(DIGESTS_FILE, "utf8")) as Digests;
}

/** `npm run providers:record`: records the current digest under each provider's current version. */
async function record(): Promise<void> {
    const digests = fs.existsSync(DIGESTS_FILE) ? recordedDigests() : {};
    for (const name of Object.keys(PROVIDERS) as ProviderName[]) {
        const { version } = PROVIDERS[name];
        const now = digest(await serializedProvider(name));
        const before = digests[name]?.[version];
        if (before !== undefined && before !== now) {
            throw new Error(`${name}'s code changed but ${PROVIDERS[name].constant} is still ${version}: bump it first, then record`);
        }
        digests[name] = { ...digests[name], [version]: now };
        console.log(`${name} v${version}: ${now}`);
    }
    fs.writeFileSync(DIGESTS_FILE, `${JSON.stringify(digests, null, 2)}\n`);
}

if (require.main === module) {
    record().catch((e) => {
        console.error((e as Error).message);
        process.exit(1);
    });
}
