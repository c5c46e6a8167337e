// A provider's serialized code changes only with its version: destroy runs the copy in state.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { digest, PROVIDERS, ProviderName, recordedDigests, serializedProvider } from "../harness/providerCode";

describe("provider versions", () => {
    const recorded = recordedDigests();
    for (const name of Object.keys(PROVIDERS) as ProviderName[]) {
        const { version, constant } = PROVIDERS[name];
        it(`${name}'s code is the code recorded for ${constant} ${version}`, async () => {
            const now = digest(await serializedProvider(name));
            const known = Object.entries(recorded[name] ?? {}).find(([, d]) => d === now)?.[0];
            assert.equal(recorded[name]?.[version], now, known !== undefined
                ? `${name}'s code is that of version ${known}, but ${constant} is ${version}`
                : `${name}'s serialized code changed: bump ${constant}, then npm run providers:record`);
        });
    }
    it("no two versions of a provider share code, so every bump stands for a change", () => {
        for (const [name, byVersion] of Object.entries(recorded)) {
            const codes = Object.values(byVersion);
            assert.equal(new Set(codes).size, codes.length, name);
        }
    });
});
