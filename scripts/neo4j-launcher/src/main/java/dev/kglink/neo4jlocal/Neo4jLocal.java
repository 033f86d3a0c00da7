package dev.kglink.neo4jlocal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.BoltConnectorInternalSettings;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.connectors.HttpsConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.dbms.api.DatabaseManagementServiceBuilder;
import org.neo4j.graphdb.GraphDatabaseService;
import org.neo4j.graphdb.QueryExecutionException;
import org.neo4j.graphdb.TransactionTerminatedException;
import org.neo4j.io.ByteUnit;

/**
 * Minimal development launcher for an embedded Neo4j Community DBMS with a Bolt
 * connector on 127.0.0.1. Started and stopped by scripts/neo4j-local.
 *
 * <p>Arguments: {@code --home DIR --port N --pagecache SIZE --auth true|false
 * --tx-log-retention POLICY}. The retention policy is Neo4j's
 * {@code db.tx_log.rotation.retention_policy} (default here "2 files": a development or
 * benchmark server needs no transaction logs for backup or recovery beyond the last
 * checkpoint, and repeated 1M-person syncs once left 37 GB of them).
 * The password is read from the environment variable KGLINK_NEO4J_PASSWORD
 * (never from the command line, so it does not show up in {@code ps}); scripts/neo4j-local
 * generates a random one per install. LOAD CSV from file URLs is off.
 *
 * <p>Prints "KGLINK_NEO4J_READY" on stdout once the DBMS is up and (if auth is
 * enabled) the password of user {@code neo4j} has been set; the shell script
 * waits for that line and for a Bolt handshake on the port.
 */
public final class Neo4jLocal {

    static final String READY_MARKER = "KGLINK_NEO4J_READY";

    private Neo4jLocal() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opts = parseArgs(args);
        Path home = Path.of(require(opts, "home")).toAbsolutePath();
        int port = Integer.parseInt(opts.getOrDefault("port", "7687"));
        String pageCache = opts.getOrDefault("pagecache", "1g");
        boolean auth = Boolean.parseBoolean(opts.getOrDefault("auth", "true"));
        String txLogRetention = opts.getOrDefault("tx-log-retention", "2 files");
        String password = System.getenv("KGLINK_NEO4J_PASSWORD");
        if (auth && (password == null || password.length() < 8)) {
            throw new IllegalArgumentException(
                    "KGLINK_NEO4J_PASSWORD must hold the password (8+ characters); scripts/neo4j-local sets it");
        }

        log("starting Neo4j embedded: home=" + home + " bolt=127.0.0.1:" + port
                + " auth=" + auth + " pagecache=" + pageCache
                + " tx-log-retention=" + txLogRetention);

        DatabaseManagementService dbms = new DatabaseManagementServiceBuilder(home)
                .setConfig(BoltConnector.enabled, true)
                .setConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.advertised_address, new SocketAddress("127.0.0.1", port))
                .setConfig(BoltConnector.encryption_level, BoltConnector.EncryptionLevel.DISABLED)
                .setConfig(HttpConnector.enabled, false)
                .setConfig(HttpsConnector.enabled, false)
                .setConfig(GraphDatabaseSettings.auth_enabled, auth)
                // dbms.security.allow_csv_import_from_file_urls=false: LOAD CSV cannot read
                // files of this machine (kglink cypher refuses LOAD CSV too; this is the
                // server's own line of defence).
                .setConfig(GraphDatabaseSettings.allow_file_urls, false)
                .setConfig(GraphDatabaseSettings.shutdown_transaction_end_timeout, Duration.ofSeconds(10))
                // Internal settings, pinned to this Neo4j version: without them the Bolt
                // server alone needs ~10 s to shut down (2 x 5 s grace periods).
                .setConfig(BoltConnectorInternalSettings.thread_pool_shutdown_wait_time, Duration.ofSeconds(1))
                .setConfig(BoltConnectorInternalSettings.connection_shutdown_wait_time, Duration.ofSeconds(1))
                .setConfig(GraphDatabaseSettings.pagecache_memory, ByteUnit.parse(pageCache))
                .setConfig(GraphDatabaseSettings.keep_logical_logs, txLogRetention)
                .build();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            log("shutdown requested, stopping Neo4j ...");
            try {
                dbms.shutdown();
                log("Neo4j stopped cleanly");
            } catch (Throwable t) {
                log("error during shutdown: " + t);
            } finally {
                stopped.countDown();
            }
        }, "kglink-neo4j-shutdown"));

        if (auth) {
            setPasswordWhenAvailable(dbms.database(GraphDatabaseSettings.SYSTEM_DATABASE_NAME), password);
        }

        log("Neo4j " + neo4jVersion() + " is up on bolt://127.0.0.1:" + port);
        System.out.println(READY_MARKER);
        System.out.flush();
        stopped.await();
    }

    /**
     * On a busy machine the system database can still be starting when the DBMS object
     * is handed over ("The database is not currently available"): wait for it, and
     * retry a password change the starting database terminated. The caller's own start
     * timeout (scripts/neo4j-local) bounds the wait.
     */
    private static void setPasswordWhenAvailable(GraphDatabaseService system, String password)
            throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            while (!system.isAvailable(1000)) {
                log("waiting for the system database to become available ...");
            }
            try {
                setPassword(system, password);
                return;
            } catch (TransactionTerminatedException e) {
                if (attempt >= 30) {
                    throw e;
                }
                log("system database not ready yet (" + e.status() + "), retrying");
                Thread.sleep(1000);
            }
        }
    }

    /**
     * Sets the password of the built-in user {@code neo4j} and clears the
     * "change required" flag. Runs on every start so that a changed
     * KGLINK_NEO4J_PASSWORD takes effect; an unchanged password is not an error.
     */
    private static void setPassword(GraphDatabaseService system, String password) {
        try {
            system.executeTransactionally(
                    "ALTER USER neo4j SET PLAINTEXT PASSWORD $pw CHANGE NOT REQUIRED",
                    Map.of("pw", password));
            log("password for user 'neo4j' set from KGLINK_NEO4J_PASSWORD");
        } catch (QueryExecutionException e) {
            String msg = String.valueOf(e.getMessage());
            if (msg.contains("Old password and new password cannot be the same")) {
                log("password for user 'neo4j' already up to date");
            } else {
                throw e;
            }
        }
    }

    private static String neo4jVersion() {
        Package p = DatabaseManagementService.class.getPackage();
        String v = p == null ? null : p.getImplementationVersion();
        return v == null ? "(unknown version)" : v;
    }

    private static Map<String, String> parseArgs(String[] args) {
        Map<String, String> out = new java.util.HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("bad argument: " + a);
            }
            out.put(a.substring(2), args[++i]);
        }
        return out;
    }

    private static String require(Map<String, String> opts, String key) {
        String v = opts.get(key);
        if (v == null) {
            throw new IllegalArgumentException("missing --" + key);
        }
        return v;
    }

    private static void log(String msg) {
        System.out.println("[kglink-neo4j-local] " + msg);
        System.out.flush();
    }
}
