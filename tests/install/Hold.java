// The service the JVM recipe launches (tests/install/deploy.sh): holds
// 64 MiB of direct buffers, which the JVM allocates with os::malloc, so
// that Native Memory Tracking and tidemalloc both count them; prints
// "ready PID", then waits until the file named by its argument exists (at
// most a minute, so that it never outlives a test that failed).
import java.io.File;
import java.nio.ByteBuffer;
import java.util.ArrayList;

public class Hold {
    public static void main(String[] args) throws Exception {
        ArrayList<ByteBuffer> keep = new ArrayList<>();
        for (int i = 0; i < 64; i++)
            keep.add(ByteBuffer.allocateDirect(1 << 20));
        System.out.println("ready " + ProcessHandle.current().pid());
        System.out.flush();
        File stop = new File(args[0]);
        for (int i = 0; i < 1200 && !stop.exists(); i++)
            Thread.sleep(50);
        System.out.println("held " + keep.size() + " MiB");
    }
}
