// The SQL of every schema migration, in order (pg_schema.cc applies them).
#include "pushsvc/store/pg_migrations.h"

namespace pushsvc::store::pg {

const std::vector<const char*>& migrations() {
    static const std::vector<const char*> all = {
        // 1: the first schema. Every id and text field is bytea: ids are opaque bytes and
        // header values are forwarded byte-exact.
        R"sql(
CREATE TABLE user_agents (
    uaid         bytea PRIMARY KEY,
    created_ms   bigint NOT NULL,
    last_seen_ms bigint NOT NULL,
    kind         smallint NOT NULL  -- 0 user agent, 1 receipt subscription
);
-- idle_user_agents(): by kind, least recently seen first.
CREATE INDEX user_agents_idle ON user_agents (kind, last_seen_ms, uaid);

CREATE TABLE subscriptions (
    id             bytea PRIMARY KEY,
    uaid           bytea NOT NULL,
    channel_id     bytea NOT NULL,
    app_server_key bytea NOT NULL,
    created_ms     bigint NOT NULL
);
CREATE INDEX subscriptions_uaid ON subscriptions (uaid);

-- One row per queue: its length (kept by the triggers below) and the row every change of
-- that queue locks first, so the queue cap is exact and Topic replacement race-free.
CREATE TABLE queues (
    uaid   bytea PRIMARY KEY,
    queued bigint NOT NULL
);

CREATE SEQUENCE message_seq;

CREATE TABLE messages (
    id               bytea PRIMARY KEY,
    uaid             bytea NOT NULL,
    subscription_id  bytea NOT NULL,
    seq              bigint NOT NULL,
    received_ms      bigint NOT NULL,
    expires_ms       bigint NOT NULL,
    ttl_s            bigint NOT NULL,
    urgency          smallint NOT NULL,
    topic            bytea NOT NULL,
    content_encoding bytea NOT NULL,
    encryption       bytea NOT NULL,
    crypto_key       bytea NOT NULL,
    receipt_id       bytea NOT NULL,
    receipt_status   integer NOT NULL,
    delivered        boolean NOT NULL,
    body             bytea NOT NULL
);
-- Bodies are encrypted: compressing them only costs CPU.
ALTER TABLE messages ALTER COLUMN body SET STORAGE EXTERNAL;
CREATE UNIQUE INDEX messages_queue ON messages (uaid, seq);
CREATE INDEX messages_expiry ON messages (expires_ms, seq);
CREATE UNIQUE INDEX messages_topic ON messages (subscription_id, topic) WHERE topic <> '';

CREATE FUNCTION queues_count_in() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE queues q SET queued = q.queued + n.n
      FROM (SELECT uaid, count(*) AS n FROM added GROUP BY uaid) n WHERE q.uaid = n.uaid;
    RETURN NULL;
END $$;
CREATE FUNCTION queues_count_out() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE queues q SET queued = q.queued - n.n
      FROM (SELECT uaid, count(*) AS n FROM removed GROUP BY uaid) n WHERE q.uaid = n.uaid;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_in AFTER INSERT ON messages REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION queues_count_in();
CREATE TRIGGER messages_out AFTER DELETE ON messages REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION queues_count_out();

-- Locks the queue row of p_uaid (creating it) and returns its length. Every function that
-- changes a queue takes this lock before touching messages: one lock order, no deadlocks.
CREATE FUNCTION pushsvc_lock_queue(p_uaid bytea) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    LOOP
        SELECT q.queued INTO n FROM queues q WHERE q.uaid = p_uaid FOR UPDATE;
        IF FOUND THEN RETURN n; END IF;
        INSERT INTO queues (uaid, queued) VALUES (p_uaid, 0) ON CONFLICT DO NOTHING;
    END LOOP;
END $$;

-- Store::enqueue: out_status 0 stored (out_seq, out_replaced), 1 the queue is full.
CREATE FUNCTION pushsvc_enqueue(
    p_id bytea, p_uaid bytea, p_sub bytea, p_received bigint, p_expires bigint, p_ttl bigint,
    p_urgency smallint, p_topic bytea, p_encoding bytea, p_encryption bytea, p_crypto_key bytea,
    p_receipt bytea, p_receipt_status integer, p_delivered boolean, p_body bytea, p_cap bigint)
RETURNS TABLE (out_status integer, out_seq bigint, out_replaced bytea) LANGUAGE plpgsql AS $$
DECLARE
    s bigint;
    old bytea;
BEGIN
    IF pushsvc_lock_queue(p_uaid) >= p_cap THEN
        RETURN QUERY SELECT 1, 0::bigint, NULL::bytea;
        RETURN;
    END IF;
    IF p_topic <> '' THEN
        DELETE FROM messages m WHERE m.subscription_id = p_sub AND m.topic = p_topic
            RETURNING m.id INTO old;
    END IF;
    s := nextval('message_seq');
    INSERT INTO messages VALUES (p_id, p_uaid, p_sub, s, p_received, p_expires, p_ttl,
        p_urgency, p_topic, p_encoding, p_encryption, p_crypto_key, p_receipt,
        p_receipt_status, p_delivered, p_body);
    RETURN QUERY SELECT 0, s, old;
END $$;

-- Store::delete_message: the removed row without its body (none if it did not exist).
CREATE FUNCTION pushsvc_delete_message(p_id bytea) RETURNS SETOF messages
LANGUAGE plpgsql AS $$
DECLARE
    u bytea;
BEGIN
    SELECT m.uaid INTO u FROM messages m WHERE m.id = p_id;
    IF NOT FOUND THEN RETURN; END IF;
    PERFORM pushsvc_lock_queue(u);
    RETURN QUERY DELETE FROM messages m WHERE m.id = p_id RETURNING m.id, m.uaid,
        m.subscription_id, m.seq, m.received_ms, m.expires_ms, m.ttl_s, m.urgency, m.topic,
        m.content_encoding, m.encryption, m.crypto_key, m.receipt_id, m.receipt_status,
        m.delivered, ''::bytea;
END $$;

-- Store::delete_subscription: false if it did not exist.
CREATE FUNCTION pushsvc_delete_subscription(p_id bytea) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    u bytea;
BEGIN
    SELECT s.uaid INTO u FROM subscriptions s WHERE s.id = p_id;
    IF NOT FOUND THEN RETURN false; END IF;
    PERFORM pushsvc_lock_queue(u);
    DELETE FROM messages m WHERE m.uaid = u AND m.subscription_id = p_id;
    DELETE FROM subscriptions s WHERE s.id = p_id;
    RETURN FOUND;
END $$;

-- Store::delete_user_agent: the user agent, its subscriptions and its queue.
CREATE FUNCTION pushsvc_delete_user_agent(p_uaid bytea) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pushsvc_lock_queue(p_uaid);
    DELETE FROM messages m WHERE m.uaid = p_uaid;
    DELETE FROM subscriptions s WHERE s.uaid = p_uaid;
    DELETE FROM user_agents a WHERE a.uaid = p_uaid;
    DELETE FROM queues q WHERE q.uaid = p_uaid;
END $$;

-- Store::sweep_expired: removes the p_limit earliest messages with expires_ms <= p_now and
-- returns them without bodies. Their queues are locked first, in uaid order.
CREATE FUNCTION pushsvc_sweep(p_now bigint, p_limit bigint) RETURNS SETOF messages
LANGUAGE plpgsql AS $$
DECLARE
    doomed bytea[];
BEGIN
    SELECT array_agg(id) INTO doomed FROM (SELECT m.id FROM messages m
        WHERE m.expires_ms <= p_now ORDER BY m.expires_ms, m.seq LIMIT p_limit) d;
    IF doomed IS NULL THEN RETURN; END IF;
    PERFORM 1 FROM queues q WHERE q.uaid IN (SELECT m.uaid FROM messages m
        WHERE m.id = ANY (doomed)) ORDER BY q.uaid FOR UPDATE;
    RETURN QUERY DELETE FROM messages m WHERE m.id = ANY (doomed) RETURNING m.id, m.uaid,
        m.subscription_id, m.seq, m.received_ms, m.expires_ms, m.ttl_s, m.urgency, m.topic,
        m.content_encoding, m.encryption, m.crypto_key, m.receipt_id, m.receipt_status,
        m.delivered, ''::bytea;
END $$;
)sql",
        // 2: routes (cluster mode, docs/cluster.md): which node holds a connection of each
        // connected user agent. Rewritten on every connect, so pages keep room for the new
        // row version next to the old one (fillfactor): updates stay HOT, the index untouched.
        R"sql(
CREATE SEQUENCE route_version;
CREATE TABLE routes (
    uaid         bytea PRIMARY KEY,
    node_id      bytea NOT NULL,
    address      bytea NOT NULL,
    version      bigint NOT NULL,  -- from route_version: the connection's identity
    connected_ms bigint NOT NULL
) WITH (fillfactor = 70);
)sql",
        // 3: one round trip per push (docs/storage.md). Rows up to 8160 bytes stay in their
        // heap page: a push body (at most 4 KiB) is no longer moved to the TOAST table, which
        // cost another heap insert and index insert per message, and reads and deletes there.
        R"sql(
-- Everything below changes `messages`; its strongest lock first, so that calls already
-- holding a weaker one (a delete's first read) finish before it instead of deadlocking with
-- a lock upgraded halfway. Writers wait for the migration (the index build is its long part).
LOCK TABLE messages IN ACCESS EXCLUSIVE MODE;
ALTER TABLE messages SET (toast_tuple_target = 8160);
-- With the bodies in the rows a scan of `messages` reads every body: Store::stats() (every
-- 30 s on every node) takes the oldest arrival from this index and the count from `queues`.
CREATE INDEX messages_received ON messages (received_ms);

-- Queue lengths are kept by the functions that change queues, no longer by statement triggers:
-- a trigger with transition tables, fired for every append, cost more than the append's own
-- insert. The lengths the triggers kept are carried on as they are.
DROP TRIGGER messages_in ON messages;
DROP TRIGGER messages_out ON messages;
DROP FUNCTION queues_count_in();
DROP FUNCTION queues_count_out();

-- Store::enqueue for the push path: p_check asks to refuse (out_status 2) a message whose
-- subscription (or, for a receipt record without one, whose user agent) is gone, since the
-- node read it from a cache; subscriptions and user agents are deleted under the queue's lock,
-- so what this sees holds until the commit. The route is read after the queue's lock, and
-- pushsvc_set_route takes that lock too: a connection whose route this does not return wrote
-- it after this commit, and reads the queue after writing it. out_status 1: the queue is full.
-- The queue's row is locked by counting the message in at once (one statement for the lock
-- and the count); a refusal counts it out again.
CREATE FUNCTION pushsvc_append(
    p_id bytea, p_uaid bytea, p_sub bytea, p_received bigint, p_expires bigint, p_ttl bigint,
    p_urgency smallint, p_topic bytea, p_encoding bytea, p_encryption bytea, p_crypto_key bytea,
    p_receipt bytea, p_receipt_status integer, p_delivered boolean, p_body bytea, p_cap bigint,
    p_check boolean)
RETURNS TABLE (out_status integer, out_seq bigint, out_replaced bytea, out_node bytea,
    out_address bytea, out_version bigint, out_connected bigint) LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    s bigint;
    old bytea;
BEGIN
    LOOP
        UPDATE queues q SET queued = q.queued + 1 WHERE q.uaid = p_uaid
            RETURNING q.queued - 1 INTO n;
        EXIT WHEN FOUND;
        INSERT INTO queues (uaid, queued) VALUES (p_uaid, 0) ON CONFLICT DO NOTHING;
    END LOOP;
    IF p_check THEN
        IF p_sub <> '' THEN
            PERFORM 1 FROM subscriptions x WHERE x.id = p_sub;
        ELSE
            PERFORM 1 FROM user_agents a WHERE a.uaid = p_uaid;
        END IF;
        IF NOT FOUND THEN
            -- The queue row made above for a user agent that is gone goes again.
            DELETE FROM queues q WHERE q.uaid = p_uaid AND q.queued = 1
                AND NOT EXISTS (SELECT 1 FROM user_agents a WHERE a.uaid = p_uaid);
            IF NOT FOUND THEN
                UPDATE queues q SET queued = q.queued - 1 WHERE q.uaid = p_uaid;
            END IF;
            RETURN QUERY SELECT 2, 0::bigint, NULL::bytea, NULL::bytea, NULL::bytea,
                NULL::bigint, NULL::bigint;
            RETURN;
        END IF;
    END IF;
    IF n >= p_cap THEN
        UPDATE queues q SET queued = q.queued - 1 WHERE q.uaid = p_uaid;
        RETURN QUERY SELECT 1, 0::bigint, NULL::bytea, NULL::bytea, NULL::bytea, NULL::bigint,
            NULL::bigint;
        RETURN;
    END IF;
    IF p_topic <> '' THEN
        DELETE FROM messages m WHERE m.subscription_id = p_sub AND m.topic = p_topic
            RETURNING m.id INTO old;
        IF old IS NOT NULL THEN
            UPDATE queues q SET queued = q.queued - 1 WHERE q.uaid = p_uaid;
        END IF;
    END IF;
    INSERT INTO messages VALUES (p_id, p_uaid, p_sub, nextval('message_seq'), p_received,
        p_expires, p_ttl, p_urgency, p_topic, p_encoding, p_encryption, p_crypto_key, p_receipt,
        p_receipt_status, p_delivered, p_body) RETURNING seq INTO s;
    RETURN QUERY SELECT 0, s, old, r.node_id, r.address, r.version, r.connected_ms
        FROM (SELECT 1) one LEFT JOIN routes r ON r.uaid = p_uaid;
END $$;

-- Nodes of schema version 2 still running during a rolling upgrade append through this.
CREATE OR REPLACE FUNCTION pushsvc_enqueue(
    p_id bytea, p_uaid bytea, p_sub bytea, p_received bigint, p_expires bigint, p_ttl bigint,
    p_urgency smallint, p_topic bytea, p_encoding bytea, p_encryption bytea, p_crypto_key bytea,
    p_receipt bytea, p_receipt_status integer, p_delivered boolean, p_body bytea, p_cap bigint)
RETURNS TABLE (out_status integer, out_seq bigint, out_replaced bytea) LANGUAGE sql AS $$
    SELECT a.out_status, a.out_seq, a.out_replaced FROM pushsvc_append(p_id, p_uaid, p_sub,
        p_received, p_expires, p_ttl, p_urgency, p_topic, p_encoding, p_encryption, p_crypto_key,
        p_receipt, p_receipt_status, p_delivered, p_body, p_cap, false) a
$$;

-- Store::delete_message: the removed row without its body (none if it did not exist). The
-- count goes down first (which locks the queue) and back up if another call removed it first.
CREATE OR REPLACE FUNCTION pushsvc_delete_message(p_id bytea) RETURNS SETOF messages
LANGUAGE plpgsql AS $$
DECLARE
    u bytea;
    counted bigint;
BEGIN
    SELECT m.uaid INTO u FROM messages m WHERE m.id = p_id;
    IF NOT FOUND THEN RETURN; END IF;
    UPDATE queues q SET queued = q.queued - 1 WHERE q.uaid = u;
    GET DIAGNOSTICS counted = ROW_COUNT;  -- 0: the user agent went meanwhile, queue row too
    RETURN QUERY DELETE FROM messages m WHERE m.id = p_id RETURNING m.id, m.uaid,
        m.subscription_id, m.seq, m.received_ms, m.expires_ms, m.ttl_s, m.urgency, m.topic,
        m.content_encoding, m.encryption, m.crypto_key, m.receipt_id, m.receipt_status,
        m.delivered, ''::bytea;
    IF NOT FOUND AND counted > 0 THEN
        UPDATE queues q SET queued = q.queued + 1 WHERE q.uaid = u;
    END IF;
END $$;

-- Store::delete_subscription: false if it did not exist.
CREATE OR REPLACE FUNCTION pushsvc_delete_subscription(p_id bytea) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    u bytea;
    n bigint;
BEGIN
    SELECT s.uaid INTO u FROM subscriptions s WHERE s.id = p_id;
    IF NOT FOUND THEN RETURN false; END IF;
    PERFORM pushsvc_lock_queue(u);
    DELETE FROM messages m WHERE m.uaid = u AND m.subscription_id = p_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        UPDATE queues q SET queued = q.queued - n WHERE q.uaid = u;
    END IF;
    DELETE FROM subscriptions s WHERE s.id = p_id;
    RETURN FOUND;
END $$;

-- Store::sweep_expired (as in version 1, counting the removed messages out of their queues).
CREATE OR REPLACE FUNCTION pushsvc_sweep(p_now bigint, p_limit bigint) RETURNS SETOF messages
LANGUAGE plpgsql AS $$
DECLARE
    doomed bytea[];
BEGIN
    SELECT array_agg(id) INTO doomed FROM (SELECT m.id FROM messages m
        WHERE m.expires_ms <= p_now ORDER BY m.expires_ms, m.seq LIMIT p_limit) d;
    IF doomed IS NULL THEN RETURN; END IF;
    PERFORM 1 FROM queues q WHERE q.uaid IN (SELECT m.uaid FROM messages m
        WHERE m.id = ANY (doomed)) ORDER BY q.uaid FOR UPDATE;
    RETURN QUERY WITH gone AS (DELETE FROM messages m WHERE m.id = ANY (doomed)
            RETURNING m.id, m.uaid, m.subscription_id, m.seq, m.received_ms, m.expires_ms,
            m.ttl_s, m.urgency, m.topic, m.content_encoding, m.encryption, m.crypto_key,
            m.receipt_id, m.receipt_status, m.delivered, ''::bytea),
        counted AS (UPDATE queues q SET queued = q.queued - c.n FROM (SELECT g.uaid,
            count(*) AS n FROM gone g GROUP BY g.uaid) c WHERE q.uaid = c.uaid)
        SELECT * FROM gone;
END $$;

-- Store::set_route (see pushsvc_append for why it takes the queue's lock): the version
-- written, NULL when a later connection's route stays.
CREATE FUNCTION pushsvc_set_route(p_uaid bytea, p_node bytea, p_address bytea,
    p_connected bigint) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    v bigint;
BEGIN
    PERFORM pushsvc_lock_queue(p_uaid);
    INSERT INTO routes AS r (uaid, node_id, address, version, connected_ms)
        VALUES (p_uaid, p_node, p_address, nextval('route_version'), p_connected)
        ON CONFLICT (uaid) DO UPDATE SET node_id = EXCLUDED.node_id,
            address = EXCLUDED.address, version = EXCLUDED.version,
            connected_ms = EXCLUDED.connected_ms
        WHERE r.version < EXCLUDED.version
            AND (r.node_id = EXCLUDED.node_id OR r.connected_ms <= EXCLUDED.connected_ms)
        RETURNING r.version INTO v;
    RETURN v;
END $$;
)sql",
        // 4: every append returns the seq of the message appended to its queue before it
        // (out_prev). A node holding the user agent gets the message with its wake-up, and a
        // connection that has read its queue up to out_prev sends it without reading the queue
        // again. The queue's lock orders its appends, so nothing lies between the two.
        R"sql(
-- The strongest lock on `messages` first, as in version 3: a delete holding a weaker one
-- finishes before this starts. No append or delete of an older node runs meanwhile, so the
-- seqs read below are the last ones.
LOCK TABLE messages IN ACCESS EXCLUSIVE MODE;
ALTER TABLE queues ADD COLUMN last_seq bigint NOT NULL DEFAULT 0,
    ADD COLUMN prev_seq bigint NOT NULL DEFAULT 0;
-- The highest seq still queued is the best known: an out_prev too low only costs a read.
UPDATE queues q SET last_seq = m.top
    FROM (SELECT uaid, max(seq) AS top FROM messages GROUP BY uaid) m WHERE q.uaid = m.uaid;

DROP FUNCTION pushsvc_append(bytea, bytea, bytea, bigint, bigint, bigint, smallint, bytea,
    bytea, bytea, bytea, bytea, integer, boolean, bytea, bigint, boolean);
-- As in version 3, with the message's seq taken by the statement that locks the queue and
-- counts the message in: SET reads the row as it was, so prev_seq gets the last seq before
-- this one. A refusal gives the seq back. (pushsvc_enqueue, for version-2 nodes, calls this.)
CREATE FUNCTION pushsvc_append(
    p_id bytea, p_uaid bytea, p_sub bytea, p_received bigint, p_expires bigint, p_ttl bigint,
    p_urgency smallint, p_topic bytea, p_encoding bytea, p_encryption bytea, p_crypto_key bytea,
    p_receipt bytea, p_receipt_status integer, p_delivered boolean, p_body bytea, p_cap bigint,
    p_check boolean)
RETURNS TABLE (out_status integer, out_seq bigint, out_replaced bytea, out_node bytea,
    out_address bytea, out_version bigint, out_connected bigint, out_prev bigint)
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    s bigint;
    prev bigint;
    old bytea;
BEGIN
    LOOP
        UPDATE queues q SET queued = q.queued + 1, prev_seq = q.last_seq,
            last_seq = nextval('message_seq') WHERE q.uaid = p_uaid
            RETURNING q.queued - 1, q.last_seq, q.prev_seq INTO n, s, prev;
        EXIT WHEN FOUND;
        INSERT INTO queues (uaid, queued) VALUES (p_uaid, 0) ON CONFLICT DO NOTHING;
    END LOOP;
    IF p_check THEN
        IF p_sub <> '' THEN
            PERFORM 1 FROM subscriptions x WHERE x.id = p_sub;
        ELSE
            PERFORM 1 FROM user_agents a WHERE a.uaid = p_uaid;
        END IF;
        IF NOT FOUND THEN
            DELETE FROM queues q WHERE q.uaid = p_uaid AND q.queued = 1
                AND NOT EXISTS (SELECT 1 FROM user_agents a WHERE a.uaid = p_uaid);
            IF NOT FOUND THEN
                UPDATE queues q SET queued = q.queued - 1, last_seq = prev WHERE q.uaid = p_uaid;
            END IF;
            RETURN QUERY SELECT 2, 0::bigint, NULL::bytea, NULL::bytea, NULL::bytea,
                NULL::bigint, NULL::bigint, NULL::bigint;
            RETURN;
        END IF;
    END IF;
    IF n >= p_cap THEN
        UPDATE queues q SET queued = q.queued - 1, last_seq = prev WHERE q.uaid = p_uaid;
        RETURN QUERY SELECT 1, 0::bigint, NULL::bytea, NULL::bytea, NULL::bytea, NULL::bigint,
            NULL::bigint, NULL::bigint;
        RETURN;
    END IF;
    IF p_topic <> '' THEN
        DELETE FROM messages m WHERE m.subscription_id = p_sub AND m.topic = p_topic
            RETURNING m.id INTO old;
        IF old IS NOT NULL THEN
            UPDATE queues q SET queued = q.queued - 1 WHERE q.uaid = p_uaid;
        END IF;
    END IF;
    INSERT INTO messages VALUES (p_id, p_uaid, p_sub, s, p_received, p_expires, p_ttl,
        p_urgency, p_topic, p_encoding, p_encryption, p_crypto_key, p_receipt,
        p_receipt_status, p_delivered, p_body);
    RETURN QUERY SELECT 0, s, old, r.node_id, r.address, r.version, r.connected_ms, prev
        FROM (SELECT 1) one LEFT JOIN routes r ON r.uaid = p_uaid;
END $$;
)sql",
        // 5: an acknowledgement no longer takes its queue's lock. An append holds that lock
        // until its commit, which waits for the synchronous standby, and every ack of the same
        // queue waited behind it. Acks count out on a row of their own (`queue_acks`): a
        // queue's length is queues.queued - queue_acks.acked. And autovacuum keeps up with the
        // queue tables' churn (see below).
        R"sql(
CREATE TABLE queue_acks (
    uaid  bytea PRIMARY KEY,
    acked bigint NOT NULL
) WITH (fillfactor = 70);

-- Every message is inserted and deleted once and its queue row is rewritten twice, so these
-- tables are mostly dead rows unless vacuumed often. By default autovacuum waits for a fifth
-- of a table to be dead, of a table whose live size swings from nearly empty to a backlog: at
-- 1,000 messages/s `messages` grew to thousands of mostly dead pages between vacuums, and its
-- statistics, taken when it was nearly empty, then misled the planner (see pending() in
-- pg_store.cc). Vacuum after 2,000 dead rows plus 5 % of the live ones (a large backlog is not
-- rescanned every few seconds), without cost-based pauses; how soon after is
-- autovacuum_naptime (README: 5 s in tools/cluster.sh).
ALTER TABLE messages SET (autovacuum_vacuum_scale_factor = 0.05,
    autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_cost_delay = 0);
ALTER TABLE queues SET (autovacuum_vacuum_scale_factor = 0.05,
    autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_cost_delay = 0);
ALTER TABLE queue_acks SET (autovacuum_vacuum_scale_factor = 0.05,
    autovacuum_vacuum_threshold = 2000, autovacuum_vacuum_cost_delay = 0);

-- Store::delete_message: one statement, no queue lock. The message's row lock orders it
-- with whatever else removes that message (a Topic replacement, a sweep, a user agent's
-- deletion): only the call that removed it counts it out. Nodes of version 4 call this too.
CREATE OR REPLACE FUNCTION pushsvc_delete_message(p_id bytea) RETURNS SETOF messages
LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY WITH gone AS (DELETE FROM messages m WHERE m.id = p_id RETURNING m.id,
            m.uaid, m.subscription_id, m.seq, m.received_ms, m.expires_ms, m.ttl_s,
            m.urgency, m.topic, m.content_encoding, m.encryption, m.crypto_key, m.receipt_id,
            m.receipt_status, m.delivered, ''::bytea),
        counted AS (INSERT INTO queue_acks AS k (uaid, acked) SELECT g.uaid, 1 FROM gone g
            ON CONFLICT (uaid) DO UPDATE SET acked = k.acked + 1)
        SELECT * FROM gone;
END $$;

-- The queue's counts go with it.
CREATE OR REPLACE FUNCTION pushsvc_delete_user_agent(p_uaid bytea) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pushsvc_lock_queue(p_uaid);
    DELETE FROM messages m WHERE m.uaid = p_uaid;
    DELETE FROM subscriptions s WHERE s.uaid = p_uaid;
    DELETE FROM user_agents a WHERE a.uaid = p_uaid;
    DELETE FROM queues q WHERE q.uaid = p_uaid;
    DELETE FROM queue_acks k WHERE k.uaid = p_uaid;
END $$;

-- As in version 4, with the cap checked against queued - acked. An ack not yet committed
-- still counts: a push at the cap may get 429 a moment early, never a place past it.
CREATE OR REPLACE FUNCTION pushsvc_append(
    p_id bytea, p_uaid bytea, p_sub bytea, p_received bigint, p_expires bigint, p_ttl bigint,
    p_urgency smallint, p_topic bytea, p_encoding bytea, p_encryption bytea, p_crypto_key bytea,
    p_receipt bytea, p_receipt_status integer, p_delivered boolean, p_body bytea, p_cap bigint,
    p_check boolean)
RETURNS TABLE (out_status integer, out_seq bigint, out_replaced bytea, out_node bytea,
    out_address bytea, out_version bigint, out_connected bigint, out_prev bigint)
LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
    s bigint;
    prev bigint;
    old bytea;
BEGIN
    LOOP
        UPDATE queues q SET queued = q.queued + 1, prev_seq = q.last_seq,
            last_seq = nextval('message_seq') WHERE q.uaid = p_uaid
            RETURNING q.queued - 1, q.last_seq, q.prev_seq INTO n, s, prev;
        EXIT WHEN FOUND;
        INSERT INTO queues (uaid, queued) VALUES (p_uaid, 0) ON CONFLICT DO NOTHING;
    END LOOP;
    IF p_check THEN
        IF p_sub <> '' THEN
            PERFORM 1 FROM subscriptions x WHERE x.id = p_sub;
        ELSE
            PERFORM 1 FROM user_agents a WHERE a.uaid = p_uaid;
        END IF;
        IF NOT FOUND THEN
            DELETE FROM queues q WHERE q.uaid = p_uaid AND q.queued = 1
                AND NOT EXISTS (SELECT 1 FROM user_agents a WHERE a.uaid = p_uaid);
            IF NOT FOUND THEN
                UPDATE queues q SET queued = q.queued - 1, last_seq = prev WHERE q.uaid = p_uaid;
            END IF;
            RETURN QUERY SELECT 2, 0::bigint, NULL::bytea, NULL::bytea, NULL::bytea,
                NULL::bigint, NULL::bigint, NULL::bigint;
            RETURN;
        END IF;
    END IF;
    n := n - coalesce((SELECT k.acked FROM queue_acks k WHERE k.uaid = p_uaid), 0);
    IF n >= p_cap THEN
        UPDATE queues q SET queued = q.queued - 1, last_seq = prev WHERE q.uaid = p_uaid;
        RETURN QUERY SELECT 1, 0::bigint, NULL::bytea, NULL::bytea, NULL::bytea, NULL::bigint,
            NULL::bigint, NULL::bigint;
        RETURN;
    END IF;
    IF p_topic <> '' THEN
        DELETE FROM messages m WHERE m.subscription_id = p_sub AND m.topic = p_topic
            RETURNING m.id INTO old;
        IF old IS NOT NULL THEN
            UPDATE queues q SET queued = q.queued - 1 WHERE q.uaid = p_uaid;
        END IF;
    END IF;
    INSERT INTO messages VALUES (p_id, p_uaid, p_sub, s, p_received, p_expires, p_ttl,
        p_urgency, p_topic, p_encoding, p_encryption, p_crypto_key, p_receipt,
        p_receipt_status, p_delivered, p_body);
    RETURN QUERY SELECT 0, s, old, r.node_id, r.address, r.version, r.connected_ms, prev
        FROM (SELECT 1) one LEFT JOIN routes r ON r.uaid = p_uaid;
END $$;
)sql",
        // 6: vacuum no longer gives the empty end of a hot table back to the file system.
        // To do so it takes the table's ACCESS EXCLUSIVE lock and keeps it while it checks the
        // trailing pages, and every append, ack and route change waits behind it (and behind
        // the replay of that lock on the standbys). After a backlog drained or a sweep removed
        // a mass of expired messages, a dev cluster at 1,000 messages/s had up to 20 backends
        // waiting on `Lock:relation` for tens of milliseconds at a time (BENCHMARKS.md). The
        // pages stay allocated instead and the next backlog reuses them: these tables never
        // occupy more than their largest backlog did. The same for the TOAST table of
        // `messages`, where bodies go when push.max_body_bytes allows more than fits a page.
        R"sql(
ALTER TABLE messages SET (vacuum_truncate = false, toast.vacuum_truncate = false);
ALTER TABLE queues SET (vacuum_truncate = false);
ALTER TABLE queue_acks SET (vacuum_truncate = false);
ALTER TABLE routes SET (vacuum_truncate = false);
)sql",
        // 7: ANALYZE of `messages` samples 3,000 rows instead of 30,000. The sample is 300
        // rows per unit of the largest statistics target of the table's columns (default
        // 100), and a row here carries a body of up to 4 KiB: with a backlog of 100,000
        // messages, each ANALYZE took ~480 ms of a core on the dev cluster (50 ms with 10),
        // and churn of 1,000 messages/s in and out triggered one every 10-15 s (10 % of the
        // rows changed), right behind each vacuum; the stalls of the latency step fell in
        // those VACUUM ANALYZE runs (BENCHMARKS.md, seventh round). The statements on
        // `messages` have an index each and no plan depends on fine distinctions (pending()
        // and the sweep force theirs); 10 histogram buckets and 10 common values per column
        // are plenty.
        R"sql(
ALTER TABLE messages ALTER COLUMN id SET STATISTICS 10,
    ALTER COLUMN uaid SET STATISTICS 10, ALTER COLUMN subscription_id SET STATISTICS 10,
    ALTER COLUMN seq SET STATISTICS 10, ALTER COLUMN received_ms SET STATISTICS 10,
    ALTER COLUMN expires_ms SET STATISTICS 10, ALTER COLUMN ttl_s SET STATISTICS 10,
    ALTER COLUMN urgency SET STATISTICS 10, ALTER COLUMN topic SET STATISTICS 10,
    ALTER COLUMN content_encoding SET STATISTICS 10, ALTER COLUMN encryption SET STATISTICS 10,
    ALTER COLUMN crypto_key SET STATISTICS 10, ALTER COLUMN receipt_id SET STATISTICS 10,
    ALTER COLUMN receipt_status SET STATISTICS 10, ALTER COLUMN delivered SET STATISTICS 10,
    ALTER COLUMN body SET STATISTICS 10;
)sql",
    };
    return all;
}

}  // namespace pushsvc::store::pg
