package io.flowrag.neo4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.connectors.HttpConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilders;

/**
 * Starts a real Neo4j 5.26 in-process with Bolt and HTTP (and Neo4j Browser, which is on the
 * classpath) on fixed loopback ports, then blocks until SIGTERM/SIGINT.
 *
 * <p>Usage: {@code Launcher --data DIR [--host 127.0.0.1] [--bolt 7687] [--http 7474]}. Prints one line
 * {@code FLOWRAG_NEO4J_READY bolt://HOST:PORT http://HOST:PORT} on stdout once the server accepts
 * connections; the Python test fixture waits for it and stops the process by PID.
 */
public final class Launcher {
    private Launcher() {}

    public static void main(String[] args) throws Exception {
        String host = "127.0.0.1";
        int bolt = 7687;
        int http = 7474;
        Path data = null;
        Long pagecache = null;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--host" -> { host = require(args[i], value); i++; }
                case "--bolt" -> { bolt = Integer.parseInt(require(args[i], value)); i++; }
                case "--http" -> { http = Integer.parseInt(require(args[i], value)); i++; }
                case "--data" -> { data = Path.of(require(args[i], value)); i++; }
                case "--pagecache" -> { pagecache = bytes(require(args[i], value)); i++; }
                default -> {
                    System.err.println("unknown argument: " + args[i]);
                    System.exit(2);
                }
            }
        }
        if (data == null) {
            System.err.println("--data DIR is required");
            System.exit(2);
        }
        Files.createDirectories(data);
        var builder = Neo4jBuilders.newInProcessBuilder(data);
        if (pagecache != null) {
            builder = builder.withConfig(GraphDatabaseSettings.pagecache_memory, pagecache);
        }
        Neo4j neo4j = builder
                .withConfig(GraphDatabaseSettings.auth_enabled, false)
                .withConfig(BoltConnector.enabled, true)
                .withConfig(BoltConnector.listen_address, new SocketAddress(host, bolt))
                .withConfig(BoltConnector.advertised_address, new SocketAddress(host, bolt))
                .withConfig(HttpConnector.enabled, true)
                .withConfig(HttpConnector.listen_address, new SocketAddress(host, http))
                .withConfig(HttpConnector.advertised_address, new SocketAddress(host, http))
                .build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            neo4j.close();
            stopped.countDown();
        }, "flowrag-neo4j-shutdown"));
        System.out.println("FLOWRAG_NEO4J_READY " + neo4j.boltURI() + " " + neo4j.httpURI());
        System.out.flush();
        stopped.await();
    }

    /** "512m", "4g" or a byte count. */
    private static long bytes(String value) {
        String v = value.trim().toLowerCase();
        long unit = v.endsWith("g") ? 1L << 30 : v.endsWith("m") ? 1L << 20 : v.endsWith("k") ? 1L << 10 : 1L;
        return Long.parseLong(unit == 1L ? v : v.substring(0, v.length() - 1)) * unit;
    }

    private static String require(String flag, String value) {
        if (value == null) {
            System.err.println(flag + " needs a value");
            System.exit(2);
        }
        return value;
    }
}
