/** Help texts, kept apart from the commands so `--help` loads nothing heavy. */

export const MAIN_HELP = `Usage: tollgate <command> [options]

Identity and governance gateway for A2A agents.

Commands:
  ca init          create (or open) the CA and print its root fingerprint
  token create     create a single-use join token for an agent's SPIFFE ID
  serve            run the gateway: mTLS A2A proxy, control API (gRPC), metrics + call graph
  admin init       write an admin identity for \`tollgate ctl\` from the local CA (a gateway on this machine)
  agent run        bootstrap a registered agent's identity and serve an example echo agent for it
  bootstrap        (agent side) get an identity with a join token; --watch keeps it renewed
  graph            print the live call graph, or one root task's call tree (--task ID)
  audit verify     check audit files offline: the hash chain and the signed checkpoints
  policy explain   would a call be allowed by a config file, and which rule or limit decides it
  ctl <verb>       operate a running gateway over the admin API (tokens, agents, policy, revoke, tasks, watch)

Options may come before or after the command (tollgate --data-dir D token create ... works).
Run \`tollgate <command> --help\` for a command's options; \`tollgate --version\` prints the version.`;

export const CA_INIT_HELP = `Usage: tollgate ca init [--data-dir DIR] [--store URL] [--trust-domain TD] [--config FILE] [--recreate-store]

Create the CA (root + intermediate) in the data directory, or open the existing one.
Idempotent: running it again changes nothing and prints the same fingerprint.
Prints the root's fingerprint (sha256:<hex>) on stdout: agents pin it with \`tollgate bootstrap --fingerprint\`.

Options:
  --data-dir DIR       state directory (default: config dataDir, else ./.tollgate)
  --store URL          postgres://... shared by a fleet of replicas (default: env TOLLGATE_STORE, then
                       config store, else SQLite in the data dir); the root key stays in the data dir
  --trust-domain TD    SPIFFE trust domain (default: config trustDomain, else tollgate.local)
  --config FILE        YAML config (CA lifetimes under ca:)
  --recreate-store     start over with an empty store when the CA's keys exist but tollgate.db is
                       missing or new (refused without it: its revocations would be gone)
  -h, --help           show this help`;

export const TOKEN_CREATE_HELP = `Usage: tollgate token create --spiffe-id ID [--ttl 10m] [--data-dir DIR] [--store URL] [--config FILE] [--recreate-store]

Create a single-use join token bound to a SPIFFE ID. Prints ONLY the token on stdout (hints go to stderr),
so \`TOKEN=$(tollgate token create ...)\` works. Safe to run while \`tollgate serve\` is running.

Options:
  --spiffe-id ID   the identity the agent will get, e.g. spiffe://tollgate.local/agent/writer
  --ttl DURATION   how long the token can be redeemed (default: config ca.tokenTtl, else 10m)
  --data-dir DIR   state directory (default: config dataDir, else ./.tollgate)
  --store URL      postgres://... shared by a fleet (default: env TOLLGATE_STORE, then config store,
                   else SQLite in the data dir); the token works at every replica
  --config FILE    YAML config
  --recreate-store start over with an empty store when the CA's keys exist but tollgate.db is missing
                   or new (refused without it: its revocations would be gone)
  -h, --help       show this help`;

export const SERVE_HELP = `Usage: tollgate serve [--config FILE] [--data-dir DIR] [--store URL] [--workers N|auto] [--watch-config] [--recreate-store]
                      [--log-level LEVEL] [--log-format json|pretty]

Run the gateway: the mTLS A2A proxy (listen.proxy), the gRPC control API with the identity and admin
services (listen.control), and /metrics, /graph and the live page /ui (listen.metrics).
The first start initialises the CA in the data directory; later starts reuse it. The gateway's own SVID
and the intermediate CA rotate automatically. SIGHUP re-reads the config file (a file that fails
validation is refused and the running config stays). Stops gracefully on SIGINT / SIGTERM.

Options:
  --config FILE      YAML config (default: built-in defaults; see tollgate.example.yaml)
  --data-dir DIR     state directory (default: config dataDir, else ./.tollgate)
  --store URL        postgres://... shared by several replicas (default: env TOLLGATE_STORE, then
                     config store, else SQLite in the data dir); see README "Running several replicas"
  --workers N|auto   N worker processes sharing the listeners (auto: one per core; default 1). More than
                     one needs store: postgres://... and redis: (shared limits, budgets, kill switch);
                     /metrics reports the whole group
  --watch-config     also reload when the config file changes
  --recreate-store   start over with an empty store when the CA's keys exist but tollgate.db is
                     missing or new (refused without it: its revocations would be gone)
  --log-level LEVEL  trace, debug, info (default), warn, error, fatal or silent
  --log-format F     json (pino lines on stderr; the default when stderr is not a terminal) or pretty
                     (one readable line each; the default on a terminal). For pino-pretty: keep json and
                     pipe stderr through it
  -h, --help         show this help`;

export const BOOTSTRAP_HELP = `Usage: tollgate bootstrap --server HOST:PORT --token TOKEN --fingerprint sha256:HEX --out DIR [--watch]

Get this agent's SPIFFE identity from the Tollgate CA. The private key is generated here and never sent.
The CA's root must match --fingerprint (printed by \`tollgate serve\` / \`tollgate ca init\`); otherwise
nothing is sent and nothing is written. Writes DIR/key.pem (0600), DIR/cert.pem, DIR/bundle.pem atomically.
Prints the SPIFFE ID on stdout.

Options:
  --server HOST:PORT     the gateway's control listener (e.g. 127.0.0.1:8444)
  --token TOKEN          join token from \`tollgate token create\` (or env TOLLGATE_TOKEN)
  --fingerprint SHA256   sha256:<hex> of the CA root to trust
  --out DIR              where to write the identity files
  --watch                keep running and renew at half-life (new key each time), rewriting the files;
                         without --token, resumes from the identity already in DIR
  --renew-at FRACTION    with --watch: renew after this fraction of each certificate's lifetime
                         (default 0.5; between 0.05 and 0.9)
  -h, --help             show this help`;

export const ADMIN_INIT_HELP = `Usage: tollgate admin init [--config FILE] [--data-dir DIR] [--spiffe-id ID] [--out DIR]

Issue an admin identity from the local CA (the data directory, or the fleet's --store) and write it to
DIR/key.pem (0600), DIR/cert.pem, DIR/bundle.pem: what \`tollgate ctl\` presents. For a gateway on this
machine; elsewhere, bootstrap an admin with a join token like any agent. Safe while \`tollgate serve\` runs.
The identity must be listed under admins: in the gateway's config (checked when --config is given). It
lives as long as any SVID (ca.svidTtl, 1 hour by default): run this again, or keep it renewed with
\`tollgate bootstrap --watch --server HOST:PORT --out DIR\`. Prints the SPIFFE ID on stdout.

Options:
  --config FILE      YAML config (the one \`tollgate serve\` runs with: admins:, trustDomain, dataDir)
  --data-dir DIR     state directory (default: config dataDir, else ./.tollgate)
  --store URL        postgres://... shared by a fleet (default: env TOLLGATE_STORE, then config store)
  --spiffe-id ID     the admin identity (default: the first of admins:, else spiffe://<td>/admin/ops)
  --out DIR          where to write it (default: <data-dir>/admin, where \`tollgate ctl\` looks by default)
  -h, --help         show this help`;

export const AGENT_RUN_HELP = `Usage: tollgate agent run --name NAME --config FILE [--server HOST:PORT] [--token T --fingerprint FP] [--out DIR]

Run an example agent behind the gateway: agent NAME as registered under agents: in FILE (its url says
where to listen, its id which identity to get). Bootstraps that identity through the gateway's control
listener and keeps it renewed, then serves a small @a2a-js/sdk agent that answers "NAME: <text>" over mTLS
to the gateway only. Without --token, the join token and the root fingerprint come from the local CA (the
data directory), so the gateway must run on this machine. Stops on Ctrl-C.

Options:
  --name NAME            the agent's name under agents: (e.g. echo in tollgate.example.yaml)
  --config FILE          the config \`tollgate serve\` runs with
  --data-dir DIR         state directory of the local CA (default: config dataDir, else ./.tollgate)
  --store URL            postgres://... of a fleet's CA (default: env TOLLGATE_STORE, then config store)
  --server HOST:PORT     the control listener (default: listen.control of the config)
  --token TOKEN          a join token made elsewhere (\`tollgate token create\`; or env TOLLGATE_TOKEN)
  --fingerprint SHA256   with --token: the sha256:<hex> of the CA root to trust
  --out DIR              where to write the identity (default: ./identities/NAME)
  -h, --help             show this help`;

/** Help per command name, as resolved by cli/main.ts. */
export const AUDIT_VERIFY_HELP = `Usage: tollgate audit verify [--bundle FILE | --data-dir DIR] [--trust-domain TD] [--json] FILE...

Check audit files offline. Each line carries the hash of the line before it and the gateway appends
checkpoints signed with its SVID (the certificate chain is embedded); a rotated file starts with the
hash of the one before it. For each file, prints OK or the first line that was altered, removed,
inserted or reordered. Give rotated files together (any order) to check the links between them.
Lines after the last checkpoint are chained but not yet signed: cutting them off cannot be detected.
Exit status 0: nothing changed; 1: a file was tampered with (or is not an audit file).

Options:
  --bundle FILE        the trust bundle (CA root certificates, PEM); default <data dir>/bundle.pem
  --data-dir DIR       where bundle.pem is (default ./.tollgate)
  --trust-domain TD    require signers in this trust domain
  --json               the report as JSON
  -h, --help           show this help`;

export const POLICY_EXPLAIN_HELP = `Usage: tollgate policy explain --config FILE --from ID --to AGENT [--method M] [--chain ID,ID,...] [--shadow] [--json]

Would the gateway allow this call, and what decides it: the policy rule that allows it, or why none does
(no rule, method, not an A2A request, a chain condition), then what the delegation stage refuses from the
chain alone (loop, depth, a missing delegation context). Rate limits and budgets depend on live counters:
an allowed call lists the ones that apply. Reads the config file with the loader \`tollgate serve\` uses;
rules saved through the admin API are not in it: ask the running gateway with \`tollgate ctl policy explain\`.
Exit status 0: allowed; 3: denied; 1: error (e.g. an invalid config file); 2: usage.

Options:
  --config FILE        the config file
  --from ID            the caller's SPIFFE ID
  --to AGENT           the callee agent name
  --method M           an A2A method (v0.3 or v1.0 name, or PushNotification; default SendMessage);
                       any other name is explained as a request that is not an A2A method
  --chain ID,ID,...    the delegation chain before the caller, initiator first (default: none, the
                       caller starts the task); repeat or comma-separate
  --shadow             explain with the file's shadowPolicy in place of its policy
  --json               the explanation as JSON
  -h, --help           show this help`;

export const COMMAND_HELP: Record<string, string> = {
  'policy explain': POLICY_EXPLAIN_HELP,
  'ca init': CA_INIT_HELP,
  'token create': TOKEN_CREATE_HELP,
  serve: SERVE_HELP,
  bootstrap: BOOTSTRAP_HELP,
  'audit verify': AUDIT_VERIFY_HELP,
  'admin init': ADMIN_INIT_HELP,
  'agent run': AGENT_RUN_HELP,
};

export const GRAPH_HELP = `Usage: tollgate graph [--server HOST:PORT] [--task ID] [--dot] [--json]

Print the live call graph of a running gateway, read from its metrics listener (listen.metrics,
default 127.0.0.1:9464; loopback only by default).
Without --task: the aggregate caller -> callee edges over the sliding window (calls, errors, refusals,
latency), the cycles found in it, and the recent root tasks.
With --task ID: that root task's call tree, naming the initiator and, for a loop that was cut, the edge
that closed the cycle.

Options:
  --server HOST:PORT   the gateway's metrics listener (default $TOLLGATE_METRICS_SERVER, else 127.0.0.1:9464)
  --task ID            one root task (ids are listed without --task, in audit lines and in 508 error data)
  --dot                Graphviz DOT instead of text (pipe into \`dot -Tsvg\`)
  --json               the raw JSON
  -h, --help           show this help`;
