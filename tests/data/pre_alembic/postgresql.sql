--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: geofences; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.geofences (
    platform_code character varying(64) NOT NULL,
    name character varying(64) NOT NULL,
    geometry json NOT NULL,
    created_at bigint NOT NULL
);


--
-- Name: login_failures; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.login_failures (
    source character varying(255) NOT NULL,
    client_id character varying(64) NOT NULL,
    failures integer NOT NULL,
    window_end bigint NOT NULL,
    blocked_until bigint NOT NULL
);


--
-- Name: platform_secrets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.platform_secrets (
    platform_code character varying(64) NOT NULL,
    sealed character varying(512) NOT NULL
);


--
-- Name: platforms; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.platforms (
    code character varying(64) NOT NULL,
    secret_hash character varying(255) NOT NULL,
    push_url character varying(2048),
    created_at bigint NOT NULL,
    rate double precision,
    burst integer,
    suspended boolean
);


--
-- Name: push_attempts; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.push_attempts (
    id integer NOT NULL,
    outbox_id integer,
    platform_code character varying(64) NOT NULL,
    at bigint NOT NULL,
    http_status integer,
    latency_ms integer NOT NULL,
    excerpt character varying(200) NOT NULL
);


--
-- Name: push_attempts_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.push_attempts_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: push_attempts_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.push_attempts_id_seq OWNED BY public.push_attempts.id;


--
-- Name: push_outbox; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.push_outbox (
    id integer NOT NULL,
    event_id character varying(36) NOT NULL,
    platform_code character varying(64) NOT NULL,
    kind character varying(16) NOT NULL,
    form json NOT NULL,
    created_at bigint NOT NULL,
    due_at bigint NOT NULL,
    attempts integer NOT NULL,
    state character varying(16) NOT NULL
);


--
-- Name: push_outbox_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.push_outbox_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: push_outbox_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.push_outbox_id_seq OWNED BY public.push_outbox.id;


--
-- Name: push_policies; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.push_policies (
    platform_code character varying(64) NOT NULL,
    policy character varying(16) NOT NULL
);


--
-- Name: rate_buckets; Type: TABLE; Schema: public; Owner: -
--

CREATE UNLOGGED TABLE public.rate_buckets (
    platform_code character varying(64) NOT NULL,
    tokens double precision NOT NULL,
    at bigint NOT NULL,
    granted integer NOT NULL
);


--
-- Name: sim_vehicles; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sim_vehicles (
    iot_code character varying(32) NOT NULL,
    state json NOT NULL
);


--
-- Name: tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tokens (
    token_hash character varying(64) NOT NULL,
    token_id character varying(64) NOT NULL,
    platform_code character varying(64) NOT NULL,
    issued_at bigint NOT NULL,
    expires_at bigint NOT NULL
);


--
-- Name: vehicles; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.vehicles (
    iot_code character varying(32) NOT NULL,
    platform_code character varying(64) NOT NULL,
    active boolean NOT NULL,
    created_at bigint NOT NULL,
    status json,
    location json,
    settings json NOT NULL,
    status_at bigint,
    location_at bigint,
    lock_at bigint
);


--
-- Name: push_attempts id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_attempts ALTER COLUMN id SET DEFAULT nextval('public.push_attempts_id_seq'::regclass);


--
-- Name: push_outbox id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_outbox ALTER COLUMN id SET DEFAULT nextval('public.push_outbox_id_seq'::regclass);


--
-- Data for Name: geofences; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.geofences VALUES ('E10001', 'depot', '{"type":"Polygon","coordinates":[[[114.05,22.6],[114.06,22.6],[114.06,22.61],[114.05,22.61],[114.05,22.6]]]}', 1795972281560);


--
-- Data for Name: login_failures; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.login_failures VALUES ('127.0.0.1', '', 1, 1795972348450, 0);
INSERT INTO public.login_failures VALUES ('127.0.0.1', 'E10001', 1, 1795972348450, 0);


--
-- Data for Name: platform_secrets; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.platform_secrets VALUES ('A20081', 'v1:5D-nIa9cF1BX1qgbzQ37mUBYuNNe0ASrWU0EKhOsGpKkrHEFyxD-koDGLAxH7f2vUifaWSACs88zPNihkJGLUA==');
INSERT INTO public.platform_secrets VALUES ('E10001', 'v1:yTtPBndjJe_Dqi73RVMJtvj3bWX9qurwEWOqWMIGwbj_Ya94w16drivHIwaXeIZAOoGOvV3hbQ==');
INSERT INTO public.platform_secrets VALUES ('U30001', 'v1:B04y_LK9aRQwM5Zz_fHBFOdyv7k3irSh8GGuup-05dJv1Vs5uEFSpoIFvHyZPjYyrQXMiJFxdLU=');
INSERT INTO public.platform_secrets VALUES ('C40001', 'v1:idZWHqkEZFGyTAZvPoaaZgaEmftAUmRf-8T2PLqOZpQbOMP0Ji8LTHT2UM9CWeUK5zYZlKsOKw==');


--
-- Data for Name: platforms; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.platforms VALUES ('A20081', 'pbkdf2_sha256$600000$n1cckOFTDx5vwURLoyC+0g==$G4NkRJ+gOSJ4hQ9TDR8iIhde1dq4f7Xs4qPXhLD9mIk=', 'http://127.0.0.1:53385/demo/pushes', 1795972274294, NULL, NULL, NULL);
INSERT INTO public.platforms VALUES ('E10001', 'pbkdf2_sha256$600000$CxV95aVmb79w/bj0wtq8GQ==$BTdoOoy2A5UpZYRH8ZF3JndiZ9m5xPJyuMlt7p2tXNM=', 'http://127.0.0.1:9/dead', 1795972275265, NULL, NULL, NULL);
INSERT INTO public.platforms VALUES ('U30001', 'pbkdf2_sha256$600000$xTI5sQdRqLeNhV4y1vyw6Q==$vsPSVLPGTPasYu2ivrsJ3coJMjXHrGD5pNU/9EEwjbQ=', 'http://127.0.0.1:9/durable', 1795972276109, 25, 50, NULL);
INSERT INTO public.platforms VALUES ('C40001', 'pbkdf2_sha256$600000$5IDPXYs6L5cj6Q58B1qmjw==$Mlu8UL0RWS8fwjxUfFNlpfJMFYim+lO7QN0vcin7DMM=', NULL, 1795972278411, NULL, NULL, true);


--
-- Data for Name: push_attempts; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.push_attempts VALUES (1, 1, 'A20081', 1795972274522, 200, 40, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (2, 2, 'A20081', 1795972274523, 200, 40, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (3, 3, 'A20081', 1795972274523, 200, 45, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (4, 4, 'A20081', 1795972274524, 200, 45, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (5, 5, 'A20081', 1795972274563, 200, 8, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (6, 6, 'A20081', 1795972274563, 200, 8, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (7, 7, 'A20081', 1795972274569, 200, 4, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (8, 8, 'A20081', 1795972274569, 200, 7, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (9, 9, 'A20081', 1795972274572, 200, 6, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (10, 10, 'A20081', 1795972274572, 200, 8, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (11, 11, 'A20081', 1795972274574, 200, 8, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (12, 12, 'A20081', 1795972274577, 200, 7, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (13, 13, 'A20081', 1795972274578, 200, 6, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (14, 14, 'A20081', 1795972274580, 200, 5, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (15, 15, 'A20081', 1795972274582, 200, 4, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (16, 16, 'A20081', 1795972274584, 200, 18, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (17, 17, 'A20081', 1795972274584, 200, 18, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (18, 18, 'A20081', 1795972274586, 200, 18, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (19, 19, 'A20081', 1795972274587, 200, 18, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (20, 20, 'A20081', 1795972274602, 200, 3, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (21, 21, 'A20081', 1795972276041, 200, 6, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (22, 24, 'E10001', 1795972284521, NULL, 21, 'ConnectError: All connection attempts failed');
INSERT INTO public.push_attempts VALUES (23, 22, 'E10001', 1795972284520, NULL, 22, 'ConnectError: All connection attempts failed');
INSERT INTO public.push_attempts VALUES (24, 23, 'E10001', 1795972284521, NULL, 22, 'ConnectError: All connection attempts failed');
INSERT INTO public.push_attempts VALUES (25, 25, 'U30001', 1795972284529, NULL, 17, 'ConnectError: All connection attempts failed');
INSERT INTO public.push_attempts VALUES (26, 26, 'E10001', 1795972284521, NULL, 24, 'ConnectError: All connection attempts failed');
INSERT INTO public.push_attempts VALUES (27, 27, 'U30001', 1795972284529, NULL, 16, 'ConnectError: All connection attempts failed');
INSERT INTO public.push_attempts VALUES (28, 28, 'A20081', 1795972288586, 200, 8, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (29, 22, 'E10001', 1795972290439, NULL, 13, 'ConnectError: All connection attempts failed');
INSERT INTO public.push_attempts VALUES (30, 23, 'E10001', 1795972290439, NULL, 18, 'ConnectError: All connection attempts failed');
INSERT INTO public.push_attempts VALUES (31, 24, 'E10001', 1795972290439, NULL, 15, 'ConnectError: All connection attempts failed');
INSERT INTO public.push_attempts VALUES (32, 25, 'U30001', 1795972290444, NULL, 14, 'ConnectError: All connection attempts failed');
INSERT INTO public.push_attempts VALUES (33, 26, 'E10001', 1795972290439, NULL, 15, 'ConnectError: All connection attempts failed');
INSERT INTO public.push_attempts VALUES (34, 27, 'U30001', 1795972290444, NULL, 14, 'ConnectError: All connection attempts failed');
INSERT INTO public.push_attempts VALUES (35, 29, 'A20081', 1795972294491, 200, 5, '{"code":0,"message":"success"}');
INSERT INTO public.push_attempts VALUES (36, 30, 'A20081', 1795972299002, 200, 2, '{"code":0,"message":"success"}');


--
-- Data for Name: push_outbox; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.push_outbox VALUES (1, '01abfe8c-ddac-55cc-9aa3-187cffa19206', 'A20081', 'status', '{"iotCode":"861477038719121","platformCode":"A20081","eventId":"01abfe8c-ddac-55cc-9aa3-187cffa19206","online":"true","locked":"true","lockVoltage":"342","networkSignal":"19","charging":"false","powerPercent":"41","speed":"0","odometer":"0","remainingRange":"2460","totalRidingSecs":"0","statusUtcTime":"1795972274","remainderRange":"2460"}', 1795972274428, 1795972274522, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (3, '1f568169-e84e-5b0f-88eb-49e05a538411', 'A20081', 'location', '{"iotCode":"861477038719121","platformCode":"A20081","eventId":"1f568169-e84e-5b0f-88eb-49e05a538411","locationStatus":"valid","latitude":"22.585777","longitude":"114.108678","satelliteNumber":"8","hdop":"0.9","altitude":"13.4","gpsUtcTime":"1795972274"}', 1795972274428, 1795972274523, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (4, '3011143d-ecf5-57b8-ac5f-1165c74ab738', 'A20081', 'location', '{"iotCode":"861477038719120","platformCode":"A20081","eventId":"3011143d-ecf5-57b8-ac5f-1165c74ab738","locationStatus":"valid","latitude":"22.583807","longitude":"114.032435","satelliteNumber":"11","hdop":"0.9","altitude":"13.8","gpsUtcTime":"1795972274"}', 1795972274428, 1795972274524, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (5, '34fbc22e-d015-5628-b126-a43a22730627', 'A20081', 'location', '{"iotCode":"861477038719123","platformCode":"A20081","eventId":"34fbc22e-d015-5628-b126-a43a22730627","locationStatus":"valid","latitude":"22.552813","longitude":"114.192986","satelliteNumber":"8","hdop":"0.9","altitude":"8.8","gpsUtcTime":"1795972274"}', 1795972274428, 1795972274563, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (7, '7a7cc5af-d8f8-5c55-ab28-1310f8f539d1', 'A20081', 'location', '{"iotCode":"861477038719124","platformCode":"A20081","eventId":"7a7cc5af-d8f8-5c55-ab28-1310f8f539d1","locationStatus":"valid","latitude":"22.555119","longitude":"114.038166","satelliteNumber":"10","hdop":"0.9","altitude":"16.9","gpsUtcTime":"1795972274"}', 1795972274428, 1795972274569, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (9, '84232035-3b50-56ec-99a5-22dce91aaba6', 'A20081', 'location', '{"iotCode":"861477038719125","platformCode":"A20081","eventId":"84232035-3b50-56ec-99a5-22dce91aaba6","locationStatus":"valid","latitude":"22.636529","longitude":"114.022377","satelliteNumber":"10","hdop":"0.9","altitude":"13.8","gpsUtcTime":"1795972274"}', 1795972274428, 1795972274572, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (10, '85a706b0-ded6-589d-a877-8a91bd7d2a17', 'A20081', 'status', '{"iotCode":"861477038719120","platformCode":"A20081","eventId":"85a706b0-ded6-589d-a877-8a91bd7d2a17","online":"true","locked":"true","lockVoltage":"342","networkSignal":"18","charging":"false","powerPercent":"73","speed":"0","odometer":"0","remainingRange":"4380","totalRidingSecs":"0","statusUtcTime":"1795972274","remainderRange":"4380"}', 1795972274428, 1795972274572, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (11, '93939f48-fa80-501f-9b61-aa19faec0ee8', 'A20081', 'status', '{"iotCode":"861477038719122","platformCode":"A20081","eventId":"93939f48-fa80-501f-9b61-aa19faec0ee8","online":"true","locked":"true","lockVoltage":"342","networkSignal":"14","charging":"false","powerPercent":"76","speed":"0","odometer":"0","remainingRange":"4560","totalRidingSecs":"0","statusUtcTime":"1795972274","remainderRange":"4560"}', 1795972274428, 1795972274574, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (13, 'a010891e-29ae-5893-9e9e-79fdc0cfefbc', 'A20081', 'status', '{"iotCode":"861477038719117","platformCode":"A20081","eventId":"a010891e-29ae-5893-9e9e-79fdc0cfefbc","online":"true","locked":"true","lockVoltage":"342","networkSignal":"12","charging":"false","powerPercent":"95","speed":"0","odometer":"0","remainingRange":"5700","totalRidingSecs":"0","statusUtcTime":"1795972274","remainderRange":"5700"}', 1795972274428, 1795972274578, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (14, 'acd92610-c15e-59c7-8630-4de858008f93', 'A20081', 'location', '{"iotCode":"861477038719118","platformCode":"A20081","eventId":"acd92610-c15e-59c7-8630-4de858008f93","locationStatus":"valid","latitude":"22.63686","longitude":"114.020206","satelliteNumber":"10","hdop":"0.9","altitude":"11.9","gpsUtcTime":"1795972274"}', 1795972274428, 1795972274580, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (15, 'b4e00735-4778-553c-8158-03bd2a09e03b', 'A20081', 'location', '{"iotCode":"861477038719119","platformCode":"A20081","eventId":"b4e00735-4778-553c-8158-03bd2a09e03b","locationStatus":"valid","latitude":"22.621665","longitude":"114.147181","satelliteNumber":"7","hdop":"0.9","altitude":"12.5","gpsUtcTime":"1795972274"}', 1795972274428, 1795972274582, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (2, '166ca96c-6986-52d0-b4fe-e932b4f24e60', 'A20081', 'status', '{"iotCode":"861477038719116","platformCode":"A20081","eventId":"166ca96c-6986-52d0-b4fe-e932b4f24e60","online":"true","locked":"true","lockVoltage":"342","networkSignal":"20","charging":"false","powerPercent":"58","speed":"0","odometer":"0","remainingRange":"3480","totalRidingSecs":"0","statusUtcTime":"1795972274","remainderRange":"3480"}', 1795972274427, 1795972274523, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (6, '65d54dc5-96ea-5dd5-aa4e-94e61039deba', 'A20081', 'status', '{"iotCode":"861477038719123","platformCode":"A20081","eventId":"65d54dc5-96ea-5dd5-aa4e-94e61039deba","online":"true","locked":"true","lockVoltage":"342","networkSignal":"21","charging":"false","powerPercent":"54","speed":"0","odometer":"0","remainingRange":"3240","totalRidingSecs":"0","statusUtcTime":"1795972274","remainderRange":"3240"}', 1795972274428, 1795972274563, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (8, '82abadbd-8ef4-5b33-8645-a9aa69afc791', 'A20081', 'status', '{"iotCode":"861477038719124","platformCode":"A20081","eventId":"82abadbd-8ef4-5b33-8645-a9aa69afc791","online":"true","locked":"true","lockVoltage":"342","networkSignal":"22","charging":"false","powerPercent":"43","speed":"0","odometer":"0","remainingRange":"2580","totalRidingSecs":"0","statusUtcTime":"1795972274","remainderRange":"2580"}', 1795972274428, 1795972274569, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (12, '9f3ec040-388c-5873-b9fc-6a0c51e95414', 'A20081', 'location', '{"iotCode":"861477038719122","platformCode":"A20081","eventId":"9f3ec040-388c-5873-b9fc-6a0c51e95414","locationStatus":"valid","latitude":"22.563079","longitude":"114.046345","satelliteNumber":"8","hdop":"0.9","altitude":"14.0","gpsUtcTime":"1795972274"}', 1795972274428, 1795972274577, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (16, 'bdfe3e66-94d1-5a28-aa56-6a802eb874df', 'A20081', 'status', '{"iotCode":"861477038719119","platformCode":"A20081","eventId":"bdfe3e66-94d1-5a28-aa56-6a802eb874df","online":"true","locked":"true","lockVoltage":"342","networkSignal":"17","charging":"false","powerPercent":"76","speed":"0","odometer":"0","remainingRange":"4560","totalRidingSecs":"0","statusUtcTime":"1795972274","remainderRange":"4560"}', 1795972274428, 1795972274584, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (17, 'cba3086a-613e-536e-b0fd-905c90d6d10e', 'A20081', 'status', '{"iotCode":"861477038719118","platformCode":"A20081","eventId":"cba3086a-613e-536e-b0fd-905c90d6d10e","online":"true","locked":"true","lockVoltage":"342","networkSignal":"22","charging":"false","powerPercent":"91","speed":"0","odometer":"0","remainingRange":"5460","totalRidingSecs":"0","statusUtcTime":"1795972274","remainderRange":"5460"}', 1795972274428, 1795972274584, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (18, 'da2e3972-37b5-5c16-a6cc-d9df7794e7a7', 'A20081', 'location', '{"iotCode":"861477038719116","platformCode":"A20081","eventId":"da2e3972-37b5-5c16-a6cc-d9df7794e7a7","locationStatus":"valid","latitude":"22.648534","longitude":"114.095703","satelliteNumber":"10","hdop":"0.9","altitude":"9.6","gpsUtcTime":"1795972274"}', 1795972274428, 1795972274586, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (19, 'f4aaf7e0-3c4b-573e-93cc-c7f5728dcadb', 'A20081', 'status', '{"iotCode":"861477038719125","platformCode":"A20081","eventId":"f4aaf7e0-3c4b-573e-93cc-c7f5728dcadb","online":"true","locked":"true","lockVoltage":"342","networkSignal":"13","charging":"false","powerPercent":"69","speed":"0","odometer":"0","remainingRange":"4140","totalRidingSecs":"0","statusUtcTime":"1795972274","remainderRange":"4140"}', 1795972274428, 1795972274587, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (20, 'fba0cca7-2c0b-5290-8bc3-7a2a007394e6', 'A20081', 'location', '{"iotCode":"861477038719117","platformCode":"A20081","eventId":"fba0cca7-2c0b-5290-8bc3-7a2a007394e6","locationStatus":"valid","latitude":"22.590319","longitude":"114.15137","satelliteNumber":"6","hdop":"0.9","altitude":"16.0","gpsUtcTime":"1795972274"}', 1795972274428, 1795972274602, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (21, '16ed0ed7-f68c-5bf6-9c8f-bca1c6fa9f14', 'A20081', 'location', '{"iotCode":"861477038719121","platformCode":"A20081","eventId":"16ed0ed7-f68c-5bf6-9c8f-bca1c6fa9f14","locationStatus":"valid","latitude":"22.585777","longitude":"114.108678","satelliteNumber":"7","hdop":"1.03","altitude":"13.4","gpsUtcTime":"1795972275"}', 1795972275951, 1795972276041, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (28, '1b80e799-7815-59d0-ab7a-d7bd9d7a6f65', 'A20081', 'status', '{"iotCode":"861477038719116","platformCode":"A20081","eventId":"1b80e799-7815-59d0-ab7a-d7bd9d7a6f65","online":"true","locked":"false","lockVoltage":"342","networkSignal":"18","charging":"false","powerPercent":"58","speed":"0","odometer":"0","remainingRange":"3479","totalRidingSecs":"0","statusUtcTime":"1795972288","remainderRange":"3479"}', 1795972288479, 1795972288586, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (22, '351aca19-7649-579f-a214-59a19d1f8240', 'E10001', 'status', '{"iotCode":"862100000000001","platformCode":"E10001","eventId":"351aca19-7649-579f-a214-59a19d1f8240","online":"true","locked":"true","lockVoltage":"342","networkSignal":"26","charging":"false","powerPercent":"84","speed":"0","odometer":"0","remainingRange":"5040","totalRidingSecs":"0","statusUtcTime":"1795972284","remainderRange":"5040"}', 1795972284450, 1795972290439, 2, 'dead');
INSERT INTO public.push_outbox VALUES (23, '56d171c9-a52f-50a4-96a1-a3a0259735b7', 'E10001', 'status', '{"iotCode":"862100000000002","platformCode":"E10001","eventId":"56d171c9-a52f-50a4-96a1-a3a0259735b7","online":"true","locked":"true","lockVoltage":"342","networkSignal":"29","charging":"false","powerPercent":"77","speed":"0","odometer":"0","remainingRange":"4620","totalRidingSecs":"0","statusUtcTime":"1795972284","remainderRange":"4620"}', 1795972284451, 1795972290439, 2, 'dead');
INSERT INTO public.push_outbox VALUES (24, 'a6a680e6-ff2a-59a2-975c-2326a445240c', 'E10001', 'location', '{"iotCode":"862100000000001","platformCode":"E10001","eventId":"a6a680e6-ff2a-59a2-975c-2326a445240c","locationStatus":"valid","latitude":"22.564964","longitude":"114.047799","satelliteNumber":"11","hdop":"0.9","altitude":"15.5","gpsUtcTime":"1795972284"}', 1795972284451, 1795972290439, 2, 'dead');
INSERT INTO public.push_outbox VALUES (25, 'b153829a-2219-5b85-a858-bb1bc26c25a1', 'U30001', 'location', '{"iotCode":"862100000000003","platformCode":"U30001","eventId":"b153829a-2219-5b85-a858-bb1bc26c25a1","locationStatus":"valid","latitude":"22.671388","longitude":"114.075418","satelliteNumber":"11","hdop":"0.9","altitude":"15.6","gpsUtcTime":"1795972284"}', 1795972284451, 1795972320458, 2, 'pending');
INSERT INTO public.push_outbox VALUES (26, 'b6061172-4224-56b6-b831-cf35ab0ff6c2', 'E10001', 'location', '{"iotCode":"862100000000002","platformCode":"E10001","eventId":"b6061172-4224-56b6-b831-cf35ab0ff6c2","locationStatus":"valid","latitude":"22.57702","longitude":"114.125683","satelliteNumber":"7","hdop":"0.9","altitude":"7.1","gpsUtcTime":"1795972284"}', 1795972284451, 1795972290439, 2, 'dead');
INSERT INTO public.push_outbox VALUES (27, 'fe4f1e5d-6a4a-5265-a9e4-4294b65a716e', 'U30001', 'status', '{"iotCode":"862100000000003","platformCode":"U30001","eventId":"fe4f1e5d-6a4a-5265-a9e4-4294b65a716e","online":"true","locked":"true","lockVoltage":"342","networkSignal":"15","charging":"false","powerPercent":"91","speed":"0","odometer":"0","remainingRange":"5460","totalRidingSecs":"0","statusUtcTime":"1795972284","remainderRange":"5460"}', 1795972284451, 1795972320458, 2, 'pending');
INSERT INTO public.push_outbox VALUES (29, 'a4d33c54-cbcb-56d1-aee1-c517cda180a1', 'A20081', 'status', '{"iotCode":"861477038719116","platformCode":"A20081","eventId":"a4d33c54-cbcb-56d1-aee1-c517cda180a1","online":"true","locked":"false","lockVoltage":"342","networkSignal":"19","charging":"false","powerPercent":"58","speed":"18","odometer":"10","remainingRange":"3478","totalRidingSecs":"2","statusUtcTime":"1795972294","remainderRange":"3478"}', 1795972294429, 1795972294491, 1, 'delivered');
INSERT INTO public.push_outbox VALUES (30, 'f57c8735-a3b9-5236-83d5-250965a8b856', 'A20081', 'location', '{"iotCode":"861477038719116","platformCode":"A20081","eventId":"f57c8735-a3b9-5236-83d5-250965a8b856","locationStatus":"valid","latitude":"22.648789","longitude":"114.095702","satelliteNumber":"9","hdop":"0.87","altitude":"9.6","gpsUtcTime":"1795972298"}', 1795972298928, 1795972299002, 1, 'delivered');


--
-- Data for Name: push_policies; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.push_policies VALUES ('U30001', 'durable');


--
-- Data for Name: rate_buckets; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: sim_vehicles; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.sim_vehicles VALUES ('861477038719124', '{"iot_code":"861477038719124","latitude":22.555119,"longitude":114.038166,"altitude":16.9,"bluetooth_key":"mwTZ4kP7","activated":true,"locked":true,"riding":false,"charging":false,"speed_mode":2,"speed":0,"heading":90.2474421426402,"odometer_m":0.0,"riding_secs":0.0,"battery_percent":42.999611111111065,"packs":[{"cycles":120,"temperature":25.0}],"iot_percent":100.0,"network_signal":23,"satellites":6,"hdop":1.29,"battery_cover_open":false,"fallen":false,"dismantled":false,"still_secs":0.0,"alerts":[],"fault_codes":[],"tripped":[],"last_sound":null,"sound_volume":null,"event_sound":null,"settings":{},"head_light":false,"tail_light":false,"powered":true,"iot_version":"2.3.5","ecu_version":"1.6.2","bms_version":"1.1.8"}');
INSERT INTO public.sim_vehicles VALUES ('862100000000003', '{"iot_code":"862100000000003","latitude":22.671388,"longitude":114.075418,"altitude":15.6,"bluetooth_key":"TsZsgIDu","activated":true,"locked":true,"riding":false,"charging":false,"speed_mode":2,"speed":0,"heading":179.18442721331652,"odometer_m":0.0,"riding_secs":0.0,"battery_percent":90.99975000000003,"packs":[{"cycles":61,"temperature":25.0},{"cycles":64,"temperature":25.0}],"iot_percent":100.0,"network_signal":16,"satellites":9,"hdop":0.85,"battery_cover_open":false,"fallen":false,"dismantled":false,"still_secs":0.0,"alerts":[],"fault_codes":[],"tripped":[],"last_sound":null,"sound_volume":null,"event_sound":null,"settings":{},"head_light":false,"tail_light":false,"powered":true,"iot_version":"2.3.5","ecu_version":"1.6.2","bms_version":"1.1.8"}');
INSERT INTO public.sim_vehicles VALUES ('862100000000002', '{"iot_code":"862100000000002","latitude":22.57702,"longitude":114.125683,"altitude":7.1,"bluetooth_key":"juWSuMck","activated":true,"locked":true,"riding":false,"charging":false,"speed_mode":2,"speed":0,"heading":105.62652052464117,"odometer_m":0.0,"riding_secs":0.0,"battery_percent":76.99975000000003,"packs":[{"cycles":47,"temperature":25.0},{"cycles":48,"temperature":25.0}],"iot_percent":100.0,"network_signal":29,"satellites":5,"hdop":1.45,"battery_cover_open":false,"fallen":false,"dismantled":false,"still_secs":0.0,"alerts":[],"fault_codes":[],"tripped":[],"last_sound":null,"sound_volume":null,"event_sound":null,"settings":{},"head_light":false,"tail_light":false,"powered":true,"iot_version":"2.3.5","ecu_version":"1.6.2","bms_version":"1.1.8"}');
INSERT INTO public.sim_vehicles VALUES ('862100000000004', '{"iot_code":"862100000000004","latitude":22.645518,"longitude":114.180992,"altitude":16.2,"bluetooth_key":"Mx8NefUd","activated":false,"locked":true,"riding":false,"charging":false,"speed_mode":2,"speed":0,"heading":104.33549107220725,"odometer_m":0.0,"riding_secs":0.0,"battery_percent":40.0,"packs":[{"cycles":88,"temperature":25.0}],"iot_percent":100.0,"network_signal":29,"satellites":10,"hdop":0.9,"battery_cover_open":false,"fallen":false,"dismantled":false,"still_secs":0.0,"alerts":[],"fault_codes":[],"tripped":[],"last_sound":null,"sound_volume":null,"event_sound":null,"settings":{},"head_light":false,"tail_light":false,"powered":true,"iot_version":"2.3.5","ecu_version":"1.6.2","bms_version":"1.1.8"}');
INSERT INTO public.sim_vehicles VALUES ('862100000000001', '{"iot_code":"862100000000001","latitude":22.564964,"longitude":114.047799,"altitude":15.5,"bluetooth_key":"cmqtwJ00","activated":true,"locked":true,"riding":false,"charging":false,"speed_mode":2,"speed":0,"heading":156.75862233401634,"odometer_m":0.0,"riding_secs":0.0,"battery_percent":83.99975000000003,"packs":[{"cycles":93,"temperature":25.0},{"cycles":93,"temperature":25.0}],"iot_percent":100.0,"network_signal":29,"satellites":7,"hdop":1.03,"battery_cover_open":false,"fallen":false,"dismantled":false,"still_secs":0.0,"alerts":[],"fault_codes":[],"tripped":[],"last_sound":null,"sound_volume":null,"event_sound":null,"settings":{},"head_light":false,"tail_light":false,"powered":true,"iot_version":"2.3.5","ecu_version":"1.6.2","bms_version":"1.1.8"}');
INSERT INTO public.sim_vehicles VALUES ('861477038719116', '{"iot_code":"861477038719116","latitude":22.64894,"longitude":114.09567,"altitude":9.6,"bluetooth_key":"FzWsDK4F","activated":true,"locked":false,"riding":true,"charging":false,"speed_mode":2,"speed":15,"heading":353.5324226579274,"odometer_m":45.555555555555564,"riding_secs":10.0,"battery_percent":57.92368518518515,"packs":[{"cycles":98,"temperature":25.081300613015703}],"iot_percent":100.0,"network_signal":19,"satellites":11,"hdop":0.6,"battery_cover_open":false,"fallen":false,"dismantled":false,"still_secs":0.0,"alerts":[],"fault_codes":[],"tripped":[],"last_sound":null,"sound_volume":2,"event_sound":"unlocked","settings":{},"head_light":false,"tail_light":false,"powered":true,"iot_version":"2.3.5","ecu_version":"1.6.2","bms_version":"1.1.8"}');
INSERT INTO public.sim_vehicles VALUES ('861477038719120', '{"iot_code":"861477038719120","latitude":22.583807,"longitude":114.032435,"altitude":13.8,"bluetooth_key":"ijceRZQZ","activated":true,"locked":true,"riding":false,"charging":false,"speed_mode":2,"speed":0,"heading":212.32842607121754,"odometer_m":0.0,"riding_secs":0.0,"battery_percent":72.99961111111116,"packs":[{"cycles":172,"temperature":25.0},{"cycles":169,"temperature":25.0}],"iot_percent":100.0,"network_signal":14,"satellites":13,"hdop":0.6,"battery_cover_open":false,"fallen":false,"dismantled":false,"still_secs":0.0,"alerts":[],"fault_codes":[],"tripped":[],"last_sound":null,"sound_volume":null,"event_sound":null,"settings":{},"head_light":false,"tail_light":false,"powered":true,"iot_version":"2.3.5","ecu_version":"1.6.2","bms_version":"1.1.8"}');
INSERT INTO public.sim_vehicles VALUES ('861477038719123', '{"iot_code":"861477038719123","latitude":22.552813,"longitude":114.192986,"altitude":8.8,"bluetooth_key":"hnX6bAgq","activated":true,"locked":true,"riding":false,"charging":false,"speed_mode":2,"speed":0,"heading":156.9847132631722,"odometer_m":0.0,"riding_secs":0.0,"battery_percent":53.999611111111065,"packs":[{"cycles":160,"temperature":25.0}],"iot_percent":100.0,"network_signal":26,"satellites":9,"hdop":0.88,"battery_cover_open":false,"fallen":false,"dismantled":false,"still_secs":0.0,"alerts":[],"fault_codes":[],"tripped":[],"last_sound":null,"sound_volume":null,"event_sound":null,"settings":{},"head_light":false,"tail_light":false,"powered":true,"iot_version":"2.3.5","ecu_version":"1.6.2","bms_version":"1.1.8"}');
INSERT INTO public.sim_vehicles VALUES ('861477038719122', '{"iot_code":"861477038719122","latitude":22.563079,"longitude":114.046345,"altitude":14.0,"bluetooth_key":"cJ4HQbNL","activated":true,"locked":true,"riding":false,"charging":false,"speed_mode":2,"speed":0,"heading":300.18399501581484,"odometer_m":0.0,"riding_secs":0.0,"battery_percent":75.99961111111116,"packs":[{"cycles":18,"temperature":25.0}],"iot_percent":100.0,"network_signal":11,"satellites":8,"hdop":0.92,"battery_cover_open":false,"fallen":false,"dismantled":false,"still_secs":0.0,"alerts":[],"fault_codes":[],"tripped":[],"last_sound":null,"sound_volume":null,"event_sound":null,"settings":{},"head_light":false,"tail_light":false,"powered":true,"iot_version":"2.3.5","ecu_version":"1.6.2","bms_version":"1.1.8"}');
INSERT INTO public.sim_vehicles VALUES ('861477038719125', '{"iot_code":"861477038719125","latitude":22.636529,"longitude":114.022377,"altitude":13.8,"bluetooth_key":"324OyOjQ","activated":true,"locked":true,"riding":false,"charging":false,"speed_mode":2,"speed":0,"heading":101.11793911860536,"odometer_m":0.0,"riding_secs":0.0,"battery_percent":68.99961111111116,"packs":[{"cycles":115,"temperature":25.0}],"iot_percent":100.0,"network_signal":11,"satellites":14,"hdop":0.6,"battery_cover_open":false,"fallen":false,"dismantled":false,"still_secs":0.0,"alerts":[],"fault_codes":[],"tripped":[],"last_sound":null,"sound_volume":null,"event_sound":null,"settings":{},"head_light":false,"tail_light":false,"powered":true,"iot_version":"2.3.5","ecu_version":"1.6.2","bms_version":"1.1.8"}');
INSERT INTO public.sim_vehicles VALUES ('861477038719118', '{"iot_code":"861477038719118","latitude":22.63686,"longitude":114.020206,"altitude":11.9,"bluetooth_key":"1pu1lJo7","activated":true,"locked":true,"riding":false,"charging":false,"speed_mode":2,"speed":0,"heading":359.26978719100487,"odometer_m":0.0,"riding_secs":0.0,"battery_percent":90.99961111111116,"packs":[{"cycles":200,"temperature":25.0},{"cycles":200,"temperature":25.0}],"iot_percent":100.0,"network_signal":19,"satellites":10,"hdop":0.68,"battery_cover_open":false,"fallen":false,"dismantled":false,"still_secs":0.0,"alerts":[],"fault_codes":[],"tripped":[],"last_sound":null,"sound_volume":null,"event_sound":null,"settings":{},"head_light":false,"tail_light":false,"powered":true,"iot_version":"2.3.5","ecu_version":"1.6.2","bms_version":"1.1.8"}');
INSERT INTO public.sim_vehicles VALUES ('861477038719119', '{"iot_code":"861477038719119","latitude":22.621665,"longitude":114.147181,"altitude":12.5,"bluetooth_key":"YH7LKBKx","activated":true,"locked":true,"riding":false,"charging":false,"speed_mode":2,"speed":0,"heading":295.7281973006027,"odometer_m":0.0,"riding_secs":0.0,"battery_percent":75.99961111111116,"packs":[{"cycles":79,"temperature":25.0}],"iot_percent":100.0,"network_signal":15,"satellites":8,"hdop":0.84,"battery_cover_open":false,"fallen":false,"dismantled":false,"still_secs":0.0,"alerts":[],"fault_codes":[],"tripped":[],"last_sound":null,"sound_volume":null,"event_sound":null,"settings":{},"head_light":false,"tail_light":false,"powered":true,"iot_version":"2.3.5","ecu_version":"1.6.2","bms_version":"1.1.8"}');
INSERT INTO public.sim_vehicles VALUES ('861477038719121', '{"iot_code":"861477038719121","latitude":22.585777,"longitude":114.108678,"altitude":13.4,"bluetooth_key":"R8wuhKul","activated":true,"locked":true,"riding":false,"charging":false,"speed_mode":2,"speed":0,"heading":286.0498698158073,"odometer_m":0.0,"riding_secs":0.0,"battery_percent":40.999611111111065,"packs":[{"cycles":148,"temperature":25.0},{"cycles":153,"temperature":25.0}],"iot_percent":100.0,"network_signal":20,"satellites":6,"hdop":1.31,"battery_cover_open":false,"fallen":false,"dismantled":false,"still_secs":0.0,"alerts":[],"fault_codes":[],"tripped":[],"last_sound":null,"sound_volume":null,"event_sound":null,"settings":{},"head_light":false,"tail_light":false,"powered":true,"iot_version":"2.3.5","ecu_version":"1.6.2","bms_version":"1.1.8"}');
INSERT INTO public.sim_vehicles VALUES ('861477038719117', '{"iot_code":"861477038719117","latitude":22.590319,"longitude":114.15137,"altitude":16.0,"bluetooth_key":"QDgAL47D","activated":true,"locked":true,"riding":false,"charging":false,"speed_mode":2,"speed":0,"heading":259.0936871054235,"odometer_m":0.0,"riding_secs":0.0,"battery_percent":94.99961111111116,"packs":[{"cycles":37,"temperature":25.0},{"cycles":41,"temperature":25.0}],"iot_percent":100.0,"network_signal":12,"satellites":7,"hdop":1.04,"battery_cover_open":false,"fallen":false,"dismantled":false,"still_secs":0.0,"alerts":[],"fault_codes":[],"tripped":[],"last_sound":null,"sound_volume":null,"event_sound":null,"settings":{"interval":{"statusInterval":{"ridingStatus":10,"nonRiding":300,"lockStatus":900}}},"head_light":false,"tail_light":false,"powered":true,"iot_version":"2.3.5","ecu_version":"1.6.2","bms_version":"1.1.8"}');


--
-- Data for Name: tokens; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.tokens VALUES ('22234638093dde777a9f07ca30d8a4a5982775d1d3be5fbbbf9bfda5b367dce2', '2212940fcf2c042814b52761bb87d5ee', 'A20081', 1795972288, 1796058688);
INSERT INTO public.tokens VALUES ('a5543626668aaf916f798827460003cebc0a8f541d5a022fe0a5d0194c96194e', '20ab218c81edb624dcac18b01053a900', 'E10001', 1795972288, 1796058688);


--
-- Data for Name: vehicles; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.vehicles VALUES ('861477038719116', 'A20081', true, 1795972274299, '{"locked":false,"lockVoltage":342,"networkSignal":19,"charging":false,"powerPercent":58,"speedMode":2,"speed":18,"odometer":10,"remainingRange":3478,"totalRidingSecs":2,"statusUtcTime":1795972294,"drivingVoltage":43,"currentPower":216,"iotPercent":100,"iotVoltage":412,"batteryData":[{"batteryPort":1,"batteryPercent":58,"batteryVoltage":43,"cycleTimes":98,"temperatrue":25}],"ack":false,"reportedAt":1795972294429}', '{"locationStatus":"valid","latitude":22.648789,"longitude":114.095702,"satelliteNumber":9,"hdop":0.87,"altitude":9.6,"gpsUtcTime":1795972298,"reportedAt":1795972298928}', '{}', 1795972294429, 1795972298928, 1795972288479);
INSERT INTO public.vehicles VALUES ('861477038719118', 'A20081', true, 1795972274299, '{"locked":true,"lockVoltage":342,"networkSignal":22,"charging":false,"powerPercent":91,"speedMode":2,"speed":0,"odometer":0,"remainingRange":5460,"totalRidingSecs":0,"statusUtcTime":1795972274,"drivingVoltage":47,"currentPower":2,"iotPercent":100,"iotVoltage":412,"batteryData":[{"batteryPort":1,"batteryPercent":91,"batteryVoltage":47,"cycleTimes":200,"temperatrue":25},{"batteryPort":2,"batteryPercent":91,"batteryVoltage":47,"cycleTimes":200,"temperatrue":25}],"ack":false,"reportedAt":1795972274427}', '{"locationStatus":"valid","latitude":22.63686,"longitude":114.020206,"satelliteNumber":10,"hdop":0.9,"altitude":11.9,"gpsUtcTime":1795972274,"reportedAt":1795972274427}', '{}', 1795972274427, 1795972274427, NULL);
INSERT INTO public.vehicles VALUES ('861477038719119', 'A20081', true, 1795972274299, '{"locked":true,"lockVoltage":342,"networkSignal":17,"charging":false,"powerPercent":76,"speedMode":2,"speed":0,"odometer":0,"remainingRange":4560,"totalRidingSecs":0,"statusUtcTime":1795972274,"drivingVoltage":45,"currentPower":2,"iotPercent":100,"iotVoltage":412,"batteryData":[{"batteryPort":1,"batteryPercent":76,"batteryVoltage":45,"cycleTimes":79,"temperatrue":25}],"ack":false,"reportedAt":1795972274427}', '{"locationStatus":"valid","latitude":22.621665,"longitude":114.147181,"satelliteNumber":7,"hdop":0.9,"altitude":12.5,"gpsUtcTime":1795972274,"reportedAt":1795972274427}', '{}', 1795972274427, 1795972274427, NULL);
INSERT INTO public.vehicles VALUES ('861477038719120', 'A20081', true, 1795972274299, '{"locked":true,"lockVoltage":342,"networkSignal":18,"charging":false,"powerPercent":73,"speedMode":2,"speed":0,"odometer":0,"remainingRange":4380,"totalRidingSecs":0,"statusUtcTime":1795972274,"drivingVoltage":45,"currentPower":2,"iotPercent":100,"iotVoltage":412,"batteryData":[{"batteryPort":1,"batteryPercent":73,"batteryVoltage":45,"cycleTimes":172,"temperatrue":25},{"batteryPort":2,"batteryPercent":73,"batteryVoltage":45,"cycleTimes":169,"temperatrue":25}],"ack":false,"reportedAt":1795972274427}', '{"locationStatus":"valid","latitude":22.583807,"longitude":114.032435,"satelliteNumber":11,"hdop":0.9,"altitude":13.8,"gpsUtcTime":1795972274,"reportedAt":1795972274427}', '{}', 1795972274427, 1795972274427, NULL);
INSERT INTO public.vehicles VALUES ('861477038719122', 'A20081', true, 1795972274299, '{"locked":true,"lockVoltage":342,"networkSignal":14,"charging":false,"powerPercent":76,"speedMode":2,"speed":0,"odometer":0,"remainingRange":4560,"totalRidingSecs":0,"statusUtcTime":1795972274,"drivingVoltage":45,"currentPower":2,"iotPercent":100,"iotVoltage":412,"batteryData":[{"batteryPort":1,"batteryPercent":76,"batteryVoltage":45,"cycleTimes":18,"temperatrue":25}],"ack":false,"reportedAt":1795972274427}', '{"locationStatus":"valid","latitude":22.563079,"longitude":114.046345,"satelliteNumber":8,"hdop":0.9,"altitude":14.0,"gpsUtcTime":1795972274,"reportedAt":1795972274427}', '{}', 1795972274427, 1795972274427, NULL);
INSERT INTO public.vehicles VALUES ('861477038719123', 'A20081', true, 1795972274299, '{"locked":true,"lockVoltage":342,"networkSignal":21,"charging":false,"powerPercent":54,"speedMode":2,"speed":0,"odometer":0,"remainingRange":3240,"totalRidingSecs":0,"statusUtcTime":1795972274,"drivingVoltage":42,"currentPower":2,"iotPercent":100,"iotVoltage":412,"batteryData":[{"batteryPort":1,"batteryPercent":54,"batteryVoltage":42,"cycleTimes":160,"temperatrue":25}],"ack":false,"reportedAt":1795972274427}', '{"locationStatus":"valid","latitude":22.552813,"longitude":114.192986,"satelliteNumber":8,"hdop":0.9,"altitude":8.8,"gpsUtcTime":1795972274,"reportedAt":1795972274427}', '{}', 1795972274427, 1795972274427, NULL);
INSERT INTO public.vehicles VALUES ('861477038719124', 'A20081', true, 1795972274299, '{"locked":true,"lockVoltage":342,"networkSignal":22,"charging":false,"powerPercent":43,"speedMode":2,"speed":0,"odometer":0,"remainingRange":2580,"totalRidingSecs":0,"statusUtcTime":1795972274,"drivingVoltage":41,"currentPower":2,"iotPercent":100,"iotVoltage":412,"batteryData":[{"batteryPort":1,"batteryPercent":43,"batteryVoltage":41,"cycleTimes":120,"temperatrue":25}],"ack":false,"reportedAt":1795972274427}', '{"locationStatus":"valid","latitude":22.555119,"longitude":114.038166,"satelliteNumber":10,"hdop":0.9,"altitude":16.9,"gpsUtcTime":1795972274,"reportedAt":1795972274427}', '{}', 1795972274427, 1795972274427, NULL);
INSERT INTO public.vehicles VALUES ('861477038719125', 'A20081', true, 1795972274299, '{"locked":true,"lockVoltage":342,"networkSignal":13,"charging":false,"powerPercent":69,"speedMode":2,"speed":0,"odometer":0,"remainingRange":4140,"totalRidingSecs":0,"statusUtcTime":1795972274,"drivingVoltage":44,"currentPower":2,"iotPercent":100,"iotVoltage":412,"batteryData":[{"batteryPort":1,"batteryPercent":69,"batteryVoltage":44,"cycleTimes":115,"temperatrue":25}],"ack":false,"reportedAt":1795972274427}', '{"locationStatus":"valid","latitude":22.636529,"longitude":114.022377,"satelliteNumber":10,"hdop":0.9,"altitude":13.8,"gpsUtcTime":1795972274,"reportedAt":1795972274427}', '{}', 1795972274427, 1795972274427, NULL);
INSERT INTO public.vehicles VALUES ('861477038719121', 'A20081', true, 1795972274299, '{"locked":true,"lockVoltage":342,"networkSignal":19,"charging":false,"powerPercent":41,"speedMode":2,"speed":0,"odometer":0,"remainingRange":2460,"totalRidingSecs":0,"statusUtcTime":1795972274,"drivingVoltage":41,"currentPower":2,"iotPercent":100,"iotVoltage":412,"batteryData":[{"batteryPort":1,"batteryPercent":41,"batteryVoltage":41,"cycleTimes":148,"temperatrue":25},{"batteryPort":2,"batteryPercent":41,"batteryVoltage":41,"cycleTimes":153,"temperatrue":25}],"ack":false,"reportedAt":1795972274427}', '{"locationStatus":"valid","latitude":22.585777,"longitude":114.108678,"satelliteNumber":7,"hdop":1.03,"altitude":13.4,"gpsUtcTime":1795972275,"reportedAt":1795972275950}', '{}', 1795972274427, 1795972275950, NULL);
INSERT INTO public.vehicles VALUES ('862100000000004', 'C40001', false, 1795972280986, 'null', 'null', '{}', NULL, NULL, NULL);
INSERT INTO public.vehicles VALUES ('861477038719117', 'A20081', true, 1795972274299, '{"locked":true,"lockVoltage":342,"networkSignal":12,"charging":false,"powerPercent":95,"speedMode":2,"speed":0,"odometer":0,"remainingRange":5700,"totalRidingSecs":0,"statusUtcTime":1795972274,"drivingVoltage":47,"currentPower":2,"iotPercent":100,"iotVoltage":412,"batteryData":[{"batteryPort":1,"batteryPercent":95,"batteryVoltage":47,"cycleTimes":37,"temperatrue":25},{"batteryPort":2,"batteryPercent":95,"batteryVoltage":47,"cycleTimes":41,"temperatrue":25}],"ack":false,"reportedAt":1795972274427}', '{"locationStatus":"valid","latitude":22.590319,"longitude":114.15137,"satelliteNumber":6,"hdop":0.9,"altitude":16.0,"gpsUtcTime":1795972274,"reportedAt":1795972274427}', '{"interval":{"statusInterval":{"ridingStatus":10,"nonRiding":300,"lockStatus":900}}}', 1795972274427, 1795972274427, NULL);
INSERT INTO public.vehicles VALUES ('862100000000001', 'E10001', true, 1795972279685, '{"locked":true,"lockVoltage":342,"networkSignal":26,"charging":false,"powerPercent":84,"speedMode":2,"speed":0,"odometer":0,"remainingRange":5040,"totalRidingSecs":0,"statusUtcTime":1795972284,"drivingVoltage":46,"currentPower":2,"iotPercent":100,"iotVoltage":412,"batteryData":[{"batteryPort":1,"batteryPercent":84,"batteryVoltage":46,"cycleTimes":93,"temperatrue":25},{"batteryPort":2,"batteryPercent":84,"batteryVoltage":46,"cycleTimes":93,"temperatrue":25}],"ack":false,"reportedAt":1795972284445}', '{"locationStatus":"valid","latitude":22.564964,"longitude":114.047799,"satelliteNumber":11,"hdop":0.9,"altitude":15.5,"gpsUtcTime":1795972284,"reportedAt":1795972284445}', '{}', 1795972284445, 1795972284445, NULL);
INSERT INTO public.vehicles VALUES ('862100000000002', 'E10001', true, 1795972279685, '{"locked":true,"lockVoltage":342,"networkSignal":29,"charging":false,"powerPercent":77,"speedMode":2,"speed":0,"odometer":0,"remainingRange":4620,"totalRidingSecs":0,"statusUtcTime":1795972284,"drivingVoltage":45,"currentPower":2,"iotPercent":100,"iotVoltage":412,"batteryData":[{"batteryPort":1,"batteryPercent":77,"batteryVoltage":45,"cycleTimes":47,"temperatrue":25},{"batteryPort":2,"batteryPercent":77,"batteryVoltage":45,"cycleTimes":48,"temperatrue":25}],"ack":false,"reportedAt":1795972284445}', '{"locationStatus":"valid","latitude":22.57702,"longitude":114.125683,"satelliteNumber":7,"hdop":0.9,"altitude":7.1,"gpsUtcTime":1795972284,"reportedAt":1795972284445}', '{}', 1795972284445, 1795972284445, NULL);
INSERT INTO public.vehicles VALUES ('862100000000003', 'U30001', true, 1795972280371, '{"locked":true,"lockVoltage":342,"networkSignal":15,"charging":false,"powerPercent":91,"speedMode":2,"speed":0,"odometer":0,"remainingRange":5460,"totalRidingSecs":0,"statusUtcTime":1795972284,"drivingVoltage":47,"currentPower":2,"iotPercent":100,"iotVoltage":412,"batteryData":[{"batteryPort":1,"batteryPercent":91,"batteryVoltage":47,"cycleTimes":61,"temperatrue":25},{"batteryPort":2,"batteryPercent":91,"batteryVoltage":47,"cycleTimes":64,"temperatrue":25}],"ack":false,"reportedAt":1795972284445}', '{"locationStatus":"valid","latitude":22.671388,"longitude":114.075418,"satelliteNumber":11,"hdop":0.9,"altitude":15.6,"gpsUtcTime":1795972284,"reportedAt":1795972284445}', '{}', 1795972284445, 1795972284445, NULL);


--
-- Name: push_attempts_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.push_attempts_id_seq', 36, true);


--
-- Name: push_outbox_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.push_outbox_id_seq', 30, true);


--
-- Name: geofences geofences_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.geofences
    ADD CONSTRAINT geofences_pkey PRIMARY KEY (platform_code, name);


--
-- Name: login_failures login_failures_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.login_failures
    ADD CONSTRAINT login_failures_pkey PRIMARY KEY (source, client_id);


--
-- Name: platform_secrets platform_secrets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.platform_secrets
    ADD CONSTRAINT platform_secrets_pkey PRIMARY KEY (platform_code);


--
-- Name: platforms platforms_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.platforms
    ADD CONSTRAINT platforms_pkey PRIMARY KEY (code);


--
-- Name: push_attempts push_attempts_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_attempts
    ADD CONSTRAINT push_attempts_pkey PRIMARY KEY (id);


--
-- Name: push_outbox push_outbox_event_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_outbox
    ADD CONSTRAINT push_outbox_event_id_key UNIQUE (event_id);


--
-- Name: push_outbox push_outbox_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_outbox
    ADD CONSTRAINT push_outbox_pkey PRIMARY KEY (id);


--
-- Name: push_policies push_policies_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_policies
    ADD CONSTRAINT push_policies_pkey PRIMARY KEY (platform_code);


--
-- Name: rate_buckets rate_buckets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rate_buckets
    ADD CONSTRAINT rate_buckets_pkey PRIMARY KEY (platform_code);


--
-- Name: sim_vehicles sim_vehicles_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sim_vehicles
    ADD CONSTRAINT sim_vehicles_pkey PRIMARY KEY (iot_code);


--
-- Name: tokens tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_pkey PRIMARY KEY (token_hash);


--
-- Name: tokens tokens_token_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_token_id_key UNIQUE (token_id);


--
-- Name: vehicles vehicles_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.vehicles
    ADD CONSTRAINT vehicles_pkey PRIMARY KEY (iot_code);


--
-- Name: ix_login_failures_window_end; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_login_failures_window_end ON public.login_failures USING btree (window_end);


--
-- Name: ix_push_attempts_outbox_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_push_attempts_outbox_id ON public.push_attempts USING btree (outbox_id);


--
-- Name: ix_push_attempts_platform_code; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_push_attempts_platform_code ON public.push_attempts USING btree (platform_code);


--
-- Name: ix_push_outbox_due_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_push_outbox_due_at ON public.push_outbox USING btree (due_at);


--
-- Name: ix_push_outbox_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_push_outbox_state ON public.push_outbox USING btree (state);


--
-- Name: ix_tokens_platform_code; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tokens_platform_code ON public.tokens USING btree (platform_code);


--
-- Name: ix_vehicles_platform_code; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_vehicles_platform_code ON public.vehicles USING btree (platform_code);


--
-- Name: geofences geofences_platform_code_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.geofences
    ADD CONSTRAINT geofences_platform_code_fkey FOREIGN KEY (platform_code) REFERENCES public.platforms(code) ON DELETE CASCADE;


--
-- Name: platform_secrets platform_secrets_platform_code_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.platform_secrets
    ADD CONSTRAINT platform_secrets_platform_code_fkey FOREIGN KEY (platform_code) REFERENCES public.platforms(code) ON DELETE CASCADE;


--
-- Name: push_attempts push_attempts_outbox_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_attempts
    ADD CONSTRAINT push_attempts_outbox_id_fkey FOREIGN KEY (outbox_id) REFERENCES public.push_outbox(id) ON DELETE CASCADE;


--
-- Name: push_outbox push_outbox_platform_code_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_outbox
    ADD CONSTRAINT push_outbox_platform_code_fkey FOREIGN KEY (platform_code) REFERENCES public.platforms(code) ON DELETE CASCADE;


--
-- Name: push_policies push_policies_platform_code_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.push_policies
    ADD CONSTRAINT push_policies_platform_code_fkey FOREIGN KEY (platform_code) REFERENCES public.platforms(code) ON DELETE CASCADE;


--
-- Name: rate_buckets rate_buckets_platform_code_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rate_buckets
    ADD CONSTRAINT rate_buckets_platform_code_fkey FOREIGN KEY (platform_code) REFERENCES public.platforms(code) ON DELETE CASCADE;


--
-- Name: tokens tokens_platform_code_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tokens
    ADD CONSTRAINT tokens_platform_code_fkey FOREIGN KEY (platform_code) REFERENCES public.platforms(code) ON DELETE CASCADE;


--
-- Name: vehicles vehicles_platform_code_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.vehicles
    ADD CONSTRAINT vehicles_platform_code_fkey FOREIGN KEY (platform_code) REFERENCES public.platforms(code) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


