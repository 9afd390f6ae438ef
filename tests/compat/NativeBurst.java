import java.lang.reflect.Field;

/* Allocates a burst of native memory with Unsafe (malloc underneath),
 * frees it all, says so, and waits to be trimmed and killed. */
public class NativeBurst {
    public static void main(String[] args) throws Exception {
        Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        sun.misc.Unsafe u = (sun.misc.Unsafe) f.get(null);
        int n = Integer.parseInt(args[0]);
        long[] p = new long[n];
        for (int i = 0; i < n; i++) {
            p[i] = u.allocateMemory(100_000);
            u.setMemory(p[i], 100_000, (byte) 1);
        }
        for (int i = 0; i < n; i++)
            u.freeMemory(p[i]);
        System.out.println("freed " + n);
        System.out.flush();
        Thread.sleep(120_000);
    }
}
