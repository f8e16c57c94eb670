namespace TransparencyLog.Fuzz;

/// <summary>Seeds of the admission targets: AdmissionReviews of several kinds and policy files using every field; fixed text, no keys needed.</summary>
internal static class AdmissionSeeds
{
    public static void Write(string directory, Action<string, string, byte[][]> seeds)
    {
        seeds(directory, "admission-review",
        [
            System.Text.Encoding.UTF8.GetBytes(""""
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"prod","operation":"CREATE","userInfo":{"username":"u"},"object":{"metadata":{"name":"p","labels":{"app":"a"}},"spec":{"containers":[{"name":"c","image":"registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}],"initContainers":[{"name":"i","image":"registry.example/app:1.0"}],"ephemeralContainers":[{"name":"e","image":"other.example/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}],"volumes":[{"name":"v","image":{"reference":"registry.example/data:1"}}],"imagePullSecrets":[{"name":"s"}]}}}}
            """"),
            System.Text.Encoding.UTF8.GetBytes(""""
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"CronJob"},"namespace":"prod","operation":"CREATE","userInfo":{"username":"u"},"object":{"metadata":{"name":"c"},"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}}}}}
            """"),
            System.Text.Encoding.UTF8.GetBytes(""""
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Deployment"},"namespace":"prod","operation":"UPDATE","userInfo":{"username":"u"},"object":{"metadata":{"name":"d","deletionTimestamp":null},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}]}}}}}}
            """"),
            System.Text.Encoding.UTF8.GetBytes(""""
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","kind":{"group":"","version":"v1","kind":"Pod"},"namespace":"prod","operation":"DELETE","userInfo":{"username":"u"},"object":{"metadata":{"name":"p","labels":{"app":"a"}},"spec":{"containers":[{"name":"c","image":"registry.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}],"initContainers":[{"name":"i","image":"registry.example/app:1.0"}],"ephemeralContainers":[{"name":"e","image":"other.example/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}],"volumes":[{"name":"v","image":{"reference":"registry.example/data:1"}}],"imagePullSecrets":[{"name":"s"}]}}}}
            """"),
            System.Text.Encoding.UTF8.GetBytes(""""
            {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","kind":"Pod","object":[1]}}
            """"),
        ]);
        seeds(directory, "image-policy",
        [
            System.Text.Encoding.UTF8.GetBytes(""""
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: keyless, annotations: {transparencylog.dev/verification-level: permissive}}
            spec:
              mode: warn
              images: [{glob: "registry.example/**"}]
              match: [{resource: pods, selector: {matchLabels: {team: a}}}]
              authorities:
              - name: ci
                signatureFormat: bundle
                keyless:
                  identities: [{issuer: "https://issuer.example", subjectRegExp: ".*@example\\.com"}]
                ctlog: {url: "https://rekor.example"}
                attestations:
                - {name: a, predicateType: vuln, policy: {type: cel, data: "predicate.critical == 0"}}
            """" + "\n"),
            System.Text.Encoding.UTF8.GetBytes(""""
            apiVersion: policy.sigstore.dev/v1alpha1
            kind: ClusterImagePolicy
            metadata: {name: keyed, generation: 3}
            spec:
              images: [{glob: "*"}]
              authorities:
              - key:
                  hashAlgorithm: sha384
                  data: |
                    -----BEGIN PUBLIC KEY-----
                    MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEfdS8/2BRNFXtF9tcXmRDBCUTTCFZ
                    bRa0MFu2CPa7xn6TtH4Ty4JT2E7fphTHDW9bmvWqFgqu2r9n9BSYRvRK+g==
                    -----END PUBLIC KEY-----
              - static: {action: fail, message: no}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: config-policy-controller}
            data: {no-match-policy: warn}
            """" + "\n"),
            System.Text.Encoding.UTF8.GetBytes(""""
            apiVersion: policy.sigstore.dev/v1alpha1
            kind: TrustRoot
            metadata: {name: r}
            spec:
              remote: {mirror: "https://tuf.example", root: eyJzaWduZWQiOnt9fQ==}
            ---
            apiVersion: policy.sigstore.dev/v1beta1
            kind: ClusterImagePolicy
            metadata: {name: p}
            spec:
              images: [{glob: "**"}]
              authorities: [{keyless: {identities: [{issuer: i, subject: s}], trustRootRef: r}}]
            """" + "\n"),
            System.Text.Encoding.UTF8.GetBytes(""""
            a: [unclosed
            """" + "\n"),
        ]);
    }
}
