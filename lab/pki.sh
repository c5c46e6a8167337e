# Certificate authority, certificates and kubeconfigs of both lab clusters, made with openssl (sourced by up.sh).

# Files are made only when missing, so a second `up` keeps every identity and kubeconfig unchanged.
pki_ca() {
    local d=$1 cn=$2
    [ -s "$d/ca.crt" ] && return 0
    mkdir -p "$d"
    (umask 077; openssl ecparam -name prime256v1 -genkey -noout -out "$d/ca.key" 2>/dev/null)
    openssl req -x509 -new -key "$d/ca.key" -subj "/CN=$cn" -days 3650 -out "$d/ca.crt" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
}

# pki_cert DIR NAME SUBJECT EKU [SAN]; a changed SAN list (new lab addresses) makes a new certificate.
pki_cert() {
    local d=$1 name=$2 subj=$3 eku=$4 san=${5:-}
    [ -s "$d/$name.crt" ] && [ "$(cat "$d/$name.san" 2>/dev/null)" = "$san" ] && return 0
    local ext; ext=$(mktemp)
    {
        echo "basicConstraints=critical,CA:FALSE"
        echo "keyUsage=critical,digitalSignature,keyEncipherment"
        echo "extendedKeyUsage=$eku"
        [ -n "$san" ] && echo "subjectAltName=$san"
    } >"$ext"
    (umask 077; openssl ecparam -name prime256v1 -genkey -noout -out "$d/$name.key" 2>/dev/null)
    openssl req -new -key "$d/$name.key" -subj "$subj" 2>/dev/null |
        openssl x509 -req -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial -days 3650 \
            -extfile "$ext" -out "$d/$name.crt" 2>/dev/null
    echo "$san" >"$d/$name.san"
    rm -f "$ext"
}

pki_sa() {
    local d=$1
    [ -s "$d/sa.pub" ] && return 0
    (umask 077; openssl genrsa -out "$d/sa.key" 2048 2>/dev/null)
    openssl rsa -in "$d/sa.key" -pubout -out "$d/sa.pub" 2>/dev/null
}

# Data is embedded: the target kubeconfig is copied into a Secret and read inside hollow-node pods.
write_kubeconfig() {
    local file=$1 server=$2 d=$3 name=$4 cluster=$5
    (umask 077; write_if_changed "$file") <<KC || true
apiVersion: v1
kind: Config
clusters:
- name: $cluster
  cluster:
    server: https://$server
    certificate-authority-data: $(base64 -w0 <"$d/ca.crt")
users:
- name: $cluster-$name
  user:
    client-certificate-data: $(base64 -w0 <"$d/$name.crt")
    client-key-data: $(base64 -w0 <"$d/$name.key")
contexts:
- name: $cluster
  context: {cluster: $cluster, user: $cluster-$name}
current-context: $cluster
KC
}

# pki_cluster NAME SERVICE_IP SERVER_FOR_CLIENTS
pki_cluster() {
    local c=$1 svc_ip=$2 server=$3 d="$PKI/$1"
    local dns="DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    pki_ca "$d" "kubemark-lab-$c-ca"
    pki_cert "$d" apiserver "/CN=kube-apiserver" serverAuth "IP:127.0.0.1,IP:${server%:*},IP:$svc_ip,$dns"
    # Front-proxy (aggregation) CA: without it every delegating component logs a missing requestheader CA.
    pki_ca "$d/front-proxy" "kubemark-lab-$c-front-proxy-ca"
    pki_cert "$d/front-proxy" client "/CN=front-proxy-client" clientAuth
    pki_cert "$d" apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
    pki_cert "$d" admin "/O=system:masters/CN=kubemark-lab-admin" clientAuth
    pki_cert "$d" controller-manager "/CN=system:kube-controller-manager" clientAuth
    pki_cert "$d" scheduler "/CN=system:kube-scheduler" clientAuth
    pki_sa "$d"
    write_kubeconfig "$d/controller-manager.kubeconfig" "$server" "$d" controller-manager "lab-$c"
    write_kubeconfig "$d/scheduler.kubeconfig" "$server" "$d" scheduler "lab-$c"
    write_kubeconfig "$LAB/$c.kubeconfig" "$server" "$d" admin "lab-$c"
}

pki_all() {
    pki_cluster node "$NODE_SERVICE_IP" "$NODE_API"
    pki_cluster target "$TARGET_SERVICE_IP" "$TARGET_API"
    pki_cert "$PKI/node" kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
    write_kubeconfig "$PKI/node/kubelet.kubeconfig" "$NODE_API" "$PKI/node" kubelet lab-node
}
