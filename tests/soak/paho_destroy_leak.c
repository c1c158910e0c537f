/* Evidence for the leak described at PahoClient::HandleDeleter (src/mqtt/paho_client.cpp), with
 * Paho alone: Paho 1.3.12 leaks the topic and payload of every PUBLISH still queued unstarted when
 * a connection is lost and the handle is destroyed (eclipse-paho/paho.mqtt.c#1474).
 *
 *   gcc -g -fsanitize=address -o /tmp/paho_destroy_leak tests/soak/paho_destroy_leak.c -lpaho-mqtt3a
 *   mosquitto -p PORT &                      # a broker this program may stop and kill
 *   /tmp/paho_destroy_leak tcp://127.0.0.1:PORT $! [stall|nostall]
 *
 * stall: the broker is SIGSTOPped, so Paho's writes pend and 40 publishes of 256 KiB queue up
 * behind them; then it is SIGKILLed. LeakSanitizer reports, all indirect (Paho's heap tracker is
 * re-initialised by the second handle and its tree orphaned), 24 x 262160 bytes allocated in
 * MQTTAsync_send (the payload copies), their topic copies, and the tracker's bookkeeping: 6.3 MB
 * on 2026-11-30. nostall: the same publishes are written as they come, nothing is queued when the
 * broker is killed, and nothing leaks. fieldgated does not meet it: PahoClient hands Paho a publish
 * only once the broker acknowledged the one before, so none waits queued behind a stalled socket
 * (tests/integration/test_stalled_drain_loss.py checks it under LeakSanitizer). */
#include <MQTTAsync.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static volatile int connected = 0, lost = 0;
static void on_connect(void* c, MQTTAsync_successData* d) { connected = 1; }
static void on_lost(void* c, char* cause) { lost = 1; }
static int on_msg(void* c, char* t, int l, MQTTAsync_message* m) { return 1; }
int main(int argc, char** argv) {
    const char* uri = argv[1]; pid_t broker = atoi(argv[2]);
    MQTTAsync h;
    MQTTAsync_create(&h, uri, "leaktest", MQTTCLIENT_PERSISTENCE_NONE, NULL);
    MQTTAsync_setCallbacks(h, NULL, on_lost, on_msg, NULL);
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
    o.onSuccess = on_connect; o.cleansession = 1;
    MQTTAsync_connect(h, &o);
    while (!connected) usleep(10000);
    const int stall = argc < 4 || strcmp(argv[3], "nostall") != 0;
    if (stall) kill(broker, SIGSTOP);          /* the broker stops reading: Paho's writes pend */
    static char payload[256 * 1024];
    memset(payload, 'x', sizeof payload);
    int sent = 0;
    for (int i = 0; i < 40; i++) {
        if (!stall) usleep(100000);            /* each written (and acknowledged) before the next */
        MQTTAsync_message m = MQTTAsync_message_initializer;
        m.payload = payload; m.payloadlen = sizeof payload; m.qos = 1;
        if (MQTTAsync_sendMessage(h, "t/batch", &m, NULL) == MQTTASYNC_SUCCESS) sent++;
        usleep(20000);
    }
    kill(broker, SIGKILL);                     /* the connection is lost with publishes queued */
    kill(broker, SIGCONT);
    while (!lost) usleep(10000);
    fprintf(stderr, "published %d, connection lost; destroy, then a new handle\n", sent);
    MQTTAsync_destroy(&h);
    MQTTAsync h2;                              /* re-initialises Paho (and its heap tracker) */
    MQTTAsync_create(&h2, uri, "leaktest2", MQTTCLIENT_PERSISTENCE_NONE, NULL);
    MQTTAsync_destroy(&h2);
    return 0;
}
