// Flush HBase tables' memstores to HFiles, so their size on disk can be measured.
//   java -cp "hbase_schema/local/lib/*" bench/peers/Flush.java ZK_PORT TABLE...
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hbase.HBaseConfiguration;
import org.apache.hadoop.hbase.TableName;
import org.apache.hadoop.hbase.client.Admin;
import org.apache.hadoop.hbase.client.Connection;
import org.apache.hadoop.hbase.client.ConnectionFactory;

public class Flush {
    public static void main(String[] args) throws Exception {
        Configuration conf = HBaseConfiguration.create();
        conf.set("hbase.zookeeper.quorum", "127.0.0.1");
        conf.set("hbase.zookeeper.property.clientPort", args[0]);
        try (Connection conn = ConnectionFactory.createConnection(conf); Admin admin = conn.getAdmin()) {
            for (int i = 1; i < args.length; i++) {
                admin.flush(TableName.valueOf(args[i]));
            }
        }
    }
}
