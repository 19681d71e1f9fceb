import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import java.util.Arrays;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Starts DynamoDB Local listening on one address only. DynamoDB Local has no bind option: its
 * DynamoDBProxyServer builds a Jetty Server(port), which listens on every interface, and it accepts any
 * credentials. This launcher builds the server exactly as the jar's own main does (same options), sets
 * the host of its Jetty connector before starting it, and refuses to start if it cannot.
 *
 * Usage: java -cp <this dir>:DynamoDBLocal.jar:DynamoDBLocal_lib/* LoopbackDynamoDbLocal <host> <DynamoDB Local options...>
 */
public final class LoopbackDynamoDbLocal {
  private LoopbackDynamoDbLocal() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: LoopbackDynamoDbLocal <host> [DynamoDB Local options]");
      System.exit(2);
    }
    String host = args[0];
    String[] options = Arrays.copyOfRange(args, 1, args.length);
    DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(options);
    Field field = DynamoDBProxyServer.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    Connector[] connectors = server.getConnectors();
    if (connectors.length == 0) throw new IllegalStateException("DynamoDB Local has no connector to bind");
    for (Connector connector : connectors) {
      if (!(connector instanceof ServerConnector)) throw new IllegalStateException("unexpected connector " + connector.getClass().getName());
      ((ServerConnector) connector).setHost(host);
    }
    System.out.println("Binding DynamoDB Local to " + host);
    proxy.start();
    proxy.join();
  }
}
