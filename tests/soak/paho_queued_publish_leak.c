/* The 621-byte leak of the ASan broker flap (bench/RESULTS.md), with Paho alone and on purpose:
 * one QoS 1 publish that Paho accepted (MQTTAsync_sendMessage returned success) but had not
 * started when the connection was lost. Paho 1.3.12 keeps such a command queued past the loss
 * (MQTTAsync_cleanSession clears the in-flight messages and responses, not the command queue),
 * and MQTTAsync_destroy clears its topic and payload pointers (MQTTAsync_NULLPublishCommands)
 * before freeing the command, so both copies made by MQTTAsync_send are lost
 * (eclipse-paho/paho.mqtt.c#1474). Run by tests/soak/paho_queued_leak.py, which starts the broker.
 *
 *   paho_queued_publish_leak URI BROKER_PID queued|paced
 *
 * queued: maxInflight = 1 and the broker SIGSTOPped: publish A is started and waits for its
 * PUBACK, so Paho cannot start publish B (its in-flight limit); the broker is then SIGKILLed.
 * fieldgated's PUBACK pacing never hands Paho a second publish like this; it meets the same
 * state when the connection is lost between its MQTTAsync_sendMessage() and Paho's send thread
 * starting that publish. paced: B is handed only after A's PUBACK (fieldgated's way) and the
 * broker is killed with nothing queued: nothing leaks.
 * Topic and payload have the sizes of the flap's batches (a 46-byte topic, 330-byte payloads).
 * A second handle is made at the end: it re-initialises Paho's heap tracker, whose tree then
 * no longer reaches what was lost, so LeakSanitizer reports it (all indirect). */
#include <MQTTAsync.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile int connected, lost, acked, failed;
static void on_connect(void* c, MQTTAsync_successData* d) {
    connected = 1;
}
static void on_connect_failed(void* c, MQTTAsync_failureData* d) {
    connected = -1;
}
static void on_lost(void* c, char* cause) {
    lost = 1;
}
static int on_message(void* c, char* t, int l, MQTTAsync_message* m) {
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(t);
    return 1;
}
static void on_published(void* c, MQTTAsync_successData* d) {
    acked++;
}
static void on_publish_failed(void* c, MQTTAsync_failureData* d) {
    failed++;
}

/* Bounded wait for a flag set by a Paho callback: 10 s, in 10 ms steps. */
static int wait_for(volatile int* flag, int value) {
    for (int i = 0; i < 1000; i++) {
        if (*flag >= value) return 1;
        usleep(10000);
    }
    return 0;
}

static int publish(MQTTAsync h, const char* topic, char* payload, int len) {
    MQTTAsync_message m = MQTTAsync_message_initializer;
    m.payload = payload;
    m.payloadlen = len;
    m.qos = 1;
    MQTTAsync_responseOptions r = MQTTAsync_responseOptions_initializer;
    r.onSuccess = on_published;
    r.onFailure = on_publish_failed;
    return MQTTAsync_sendMessage(h, topic, &m, &r);
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s URI BROKER_PID queued|paced\n", argv[0]);
        return 2;
    }
    const char* uri = argv[1];
    const pid_t broker = (pid_t)atoi(argv[2]);
    const int queued = strcmp(argv[3], "queued") == 0;
    const char* topic = "/sys/gwPk/gwDk/thing/measurepoint/post/batch";
    static char payload[330];
    memset(payload, 'x', sizeof payload);

    MQTTAsync h;
    MQTTAsync_createOptions create = MQTTAsync_createOptions_initializer;
    create.MQTTVersion = MQTTVERSION_3_1_1;
    if (MQTTAsync_createWithOptions(&h, uri, "queued-leak", MQTTCLIENT_PERSISTENCE_NONE, NULL, &create) !=
        MQTTASYNC_SUCCESS)
        return 3;
    MQTTAsync_setCallbacks(h, NULL, on_lost, on_message, NULL);
    MQTTAsync_connectOptions o = MQTTAsync_connectOptions_initializer;
    o.MQTTVersion = MQTTVERSION_3_1_1;
    o.cleansession = 1;
    o.maxInflight = 1;
    o.onSuccess = on_connect;
    o.onFailure = on_connect_failed;
    if (MQTTAsync_connect(h, &o) != MQTTASYNC_SUCCESS || !wait_for(&connected, 1) || connected < 0) {
        fprintf(stderr, "cannot connect to %s\n", uri);
        return 3;
    }
    if (queued) kill(broker, SIGSTOP); /* no PUBACK for A: B stays queued behind the in-flight limit */
    if (publish(h, topic, payload, sizeof payload) != MQTTASYNC_SUCCESS) return 4;
    if (!queued && !wait_for(&acked, 1)) return 5;
    if (publish(h, topic, payload, sizeof payload) != MQTTASYNC_SUCCESS) return 4;
    if (!queued && !wait_for(&acked, 2)) return 5;
    kill(broker, SIGKILL);
    kill(broker, SIGCONT);
    if (!wait_for(&lost, 1)) {
        fprintf(stderr, "the connection loss was not reported\n");
        return 6;
    }
    fprintf(stderr, "%s: acked %d, failed %d; connection lost; destroy, then a new handle\n", argv[3], acked, failed);
    MQTTAsync_destroy(&h);
    MQTTAsync h2;
    MQTTAsync_create(&h2, uri, "queued-leak-2", MQTTCLIENT_PERSISTENCE_NONE, NULL);
    MQTTAsync_destroy(&h2);
    return 0;
}
